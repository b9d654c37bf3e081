// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_PLAINTEXT, deviceInfo, enrich, geo, isMobile, props } from '../src/vault/enrich.js'

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

test('deviceInfo: client hints first, else the user agent reduced to a family', () => {
  const ua = {
    chromeWin: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    edgeWin: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
    firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
    safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
    safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    chromeIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1',
    ipad: 'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
    samsung: 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
    androidTablet: 'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    opera: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0',
    chromebook: 'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    bot: 'curl/8.5.0'
  }
  const want = [
    [{ userAgent: ua.chromeWin }, 1920, { browser: 'Chrome', os: 'Windows', device: 'desktop', screen: 'xlarge' }],
    [{ userAgent: ua.edgeWin }, 1366, { browser: 'Edge', os: 'Windows', device: 'desktop', screen: 'large' }],
    [{ userAgent: ua.firefoxLinux }, 1440, { browser: 'Firefox', os: 'Linux', device: 'desktop', screen: 'xlarge' }],
    [{ userAgent: ua.safariMac, maxTouchPoints: 0 }, 1280, { browser: 'Safari', os: 'macOS', device: 'desktop', screen: 'large' }],
    [{ userAgent: ua.safariMac, maxTouchPoints: 5 }, 820, { browser: 'Safari', os: 'iPadOS', device: 'tablet', screen: 'medium' }],
    [{ userAgent: ua.safariIphone }, 390, { browser: 'Safari', os: 'iOS', device: 'mobile', screen: 'small' }],
    [{ userAgent: ua.chromeIphone }, 575, { browser: 'Chrome', os: 'iOS', device: 'mobile', screen: 'small' }],
    [{ userAgent: ua.ipad }, 576, { browser: 'Safari', os: 'iPadOS', device: 'tablet', screen: 'medium' }],
    [{ userAgent: ua.samsung }, 412, { browser: 'Samsung Internet', os: 'Android', device: 'mobile', screen: 'small' }],
    [{ userAgent: ua.androidTablet }, 991, { browser: 'Chrome', os: 'Android', device: 'tablet', screen: 'medium' }],
    [{ userAgent: ua.opera }, 992, { browser: 'Opera', os: 'Windows', device: 'desktop', screen: 'large' }],
    [{ userAgent: ua.chromebook }, 1439, { browser: 'Chrome', os: 'ChromeOS', device: 'desktop', screen: 'large' }],
    [{ userAgent: ua.bot }, 0, { browser: 'Other', os: 'Other', device: 'desktop' }],
    // client hints win over the string (which a browser may freeze or reduce)
    [{ userAgent: ua.chromeWin, userAgentData: { brands: [{ brand: 'Not A(Brand', version: '8' }, { brand: 'Chromium', version: '131' }, { brand: 'Microsoft Edge', version: '131' }], platform: 'Windows', mobile: false } }, 1920,
      { browser: 'Edge', os: 'Windows', device: 'desktop', screen: 'xlarge' }],
    [{ userAgent: '', userAgentData: { brands: [{ brand: 'Chromium', version: '131' }], platform: 'Chrome OS', mobile: false } }, 1280,
      { browser: 'Chrome', os: 'ChromeOS', device: 'desktop', screen: 'large' }],
    [{ userAgent: ua.androidTablet, userAgentData: { brands: [{ brand: 'Google Chrome', version: '131' }], platform: 'Android', mobile: true } }, 400,
      { browser: 'Chrome', os: 'Android', device: 'mobile', screen: 'small' }],
    [{ userAgent: ua.firefoxLinux, userAgentData: { brands: [{ brand: 'Brave', version: '131' }], platform: 'Haiku', mobile: false } }, 1000,
      { browser: 'Firefox', os: 'Linux', device: 'desktop', screen: 'large' }]
  ]
  for (const [nav, width, expected] of want) assert.deepEqual(deviceInfo(nav, { width }), expected, nav.userAgent + ' ' + width)
  assert.deepEqual(deviceInfo(undefined, undefined), { browser: 'Other', os: 'Other', device: 'desktop' })
})

test('props: bounded entries kept, the rest dropped', () => {
  assert.equal(props(undefined), null)
  assert.equal(props('x'), null)
  assert.equal(props([1]), null)
  assert.equal(props({}), null)
  assert.deepEqual(props({ plan: 'pro', seats: 3, bad: NaN, obj: {}, long: 'x'.repeat(129), ['k'.repeat(33)]: 'v', ok: 'x'.repeat(128), '': 'empty' }),
    { plan: 'pro', seats: 3, ok: 'x'.repeat(128) })
  const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => ['p' + i, i]))
  assert.deepEqual(Object.keys(props(many)), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'])
  assert.equal(Object.getPrototypeOf(props(JSON.parse('{"__proto__": "x"}'))), Object.prototype, 'no prototype change')
})

test('enrich: new event types and device fields', () => {
  const now = new Date('2026-11-22T05:00:00.123Z')
  const device = { browser: 'Firefox', os: 'Linux', device: 'desktop', screen: 'large' }
  const ctx = { now, sessionId: 'ab'.repeat(16), timeZone: 'Europe/Berlin', mobile: false, device }
  const base = { href: 'https://a.test/p', referrer: '', pageload: null }
  const common = { v: 1, href: 'https://a.test/p', referrer: '', pageload: null, timestamp: now.toISOString(), sessionId: 'ab'.repeat(16), geo: 'DE', isMobile: false, ...device }
  assert.deepEqual(enrich({ ...base, type: 'EVENT', name: 'Signup', props: { plan: 'pro', n: 2, x: null } }, ctx), { ...common, type: 'EVENT', name: 'Signup', props: { plan: 'pro', n: 2 } })
  assert.deepEqual(enrich({ ...base, type: 'EVENT', name: 'Play', props: { x: null } }, ctx), { ...common, type: 'EVENT', name: 'Play' })
  assert.deepEqual(enrich({ ...base, type: 'OUTBOUND', target: 'https://other.test/a?q=secret#f' }, ctx), { ...common, type: 'OUTBOUND', target: 'https://other.test/a' })
  assert.deepEqual(enrich({ ...base, type: 'DOWNLOAD', target: 'https://a.test/f.pdf', name: 'x' }, ctx), { ...common, type: 'DOWNLOAD', target: 'https://a.test/f.pdf' })
  assert.deepEqual(enrich({ ...base, type: 'PAGEVIEW', notFound: true }, ctx), { ...common, type: 'PAGEVIEW', notFound: true })
  assert.deepEqual(enrich({ ...base, type: 'PAGEVIEW', notFound: 'yes' }, ctx), { ...common, type: 'PAGEVIEW' })
  assert.equal(enrich({ ...base, type: 'EVENT', name: 'x', props: Object.fromEntries(Array.from({ length: 10 }, (_, i) => ['k' + i, 'v'.repeat(128)])), href: 'https://a.test/' + 'p'.repeat(2000), rawHref: 'https://a.test/' + 'q'.repeat(2000) }, ctx), null, 'too large')
})
