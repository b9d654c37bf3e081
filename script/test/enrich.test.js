// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_PLAINTEXT, enrich, geo, isMobile } from '../src/vault/enrich.js'

test('geo: time zone to country', () => {
  const want = {
    'Europe/Berlin': 'DE',
    'Europe/Paris': 'FR',
    'America/New_York': 'US',
    'America/Sao_Paulo': 'BR',
    'America/Argentina/Buenos_Aires': 'AR',
    'America/Buenos_Aires': 'AR', // legacy name some browsers still report
    'Asia/Ho_Chi_Minh': 'VN',
    'Asia/Saigon': 'VN',
    'Asia/Kolkata': 'IN',
    'Asia/Calcutta': 'IN',
    'Europe/Kyiv': 'UA',
    'Europe/Kiev': 'UA',
    'Australia/Sydney': 'AU',
    'Pacific/Auckland': 'NZ',
    'Africa/Lagos': 'NG',
    'Atlantic/Reykjavik': 'IS',
    'Europe/Lisbon': 'PT',
    'Atlantic/Madeira': 'PT',
    'Europe/Madrid': 'ES',
    'America/Indiana/Indianapolis': 'US'
  }
  for (const [zone, cc] of Object.entries(want)) assert.equal(geo(zone), cc, zone)
  for (const zone of ['UTC', 'Etc/UTC', 'Etc/GMT+5', 'Mars/Olympus', '', undefined, 'Europe/', 'constructor', 'Europe/__proto__']) {
    assert.equal(geo(zone), null, String(zone))
  }
})

test('isMobile', () => {
  assert.equal(isMobile({ userAgentData: { mobile: true }, userAgent: '' }), true)
  assert.equal(isMobile({ userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148' }), true)
  assert.equal(isMobile({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' }), false)
  assert.equal(isMobile(undefined), false)
})

test('enrich: vault fields added, unknown fields dropped, size limit', () => {
  const now = new Date('2026-11-22T05:00:00.123Z')
  const ctx = { now, sessionId: 'ab'.repeat(16), timeZone: 'Europe/Berlin', mobile: true }
  const p = enrich({ type: 'PAGEVIEW', href: 'https://a.test/', referrer: '', pageload: 5, extra: 'x' }, ctx)
  assert.deepEqual(p, { v: 1, type: 'PAGEVIEW', href: 'https://a.test/', referrer: '', pageload: 5, timestamp: '2026-11-22T05:00:00.123Z', sessionId: 'ab'.repeat(16), geo: 'DE', isMobile: true })
  assert.equal(enrich({ type: 'PAGEVIEW', href: 'https://a.test/', rawHref: 'https://a.test/', referrer: '', pageload: null }, ctx).rawHref, undefined)
  const big = (n) => ({ type: 'PAGEVIEW', href: 'https://a.test/' + 'é'.repeat(n), referrer: '', pageload: null })
  // find the largest href that fits: the limit counts UTF-8 bytes of the JSON
  const base = new TextEncoder().encode(JSON.stringify(enrich(big(0), ctx))).length
  const fits = Math.floor((MAX_PLAINTEXT - base) / 2)
  assert.ok(enrich(big(fits), ctx))
  assert.equal(enrich(big(fits + 1), ctx), null)
})
