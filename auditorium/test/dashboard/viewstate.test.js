// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readView, writeView } from '../../src/dashboard/viewstate.js'
import { keyLabeler, niceTicks } from '../../src/dashboard/components.js'
import { createI18n } from '../../src/lib/i18n.js'
import { landingAfterLogin } from '../../src/pages/auth/login.js'

test('a view survives the address, other parameters stay', () => {
  const view = { account: 'a1', range: 'custom', custom: { from: '2026-11-01', to: '2026-11-07' }, resolution: 'hours', filters: { country: 'DE', page: 'https://x.org/a b?' } }
  const search = writeView(view, '?locale=de')
  assert.deepEqual(readView(search), view)
  assert.equal(new URLSearchParams(search).get('locale'), 'de')
  // the default range and empty values are left out; custom dates only with the custom range
  assert.equal(writeView({ account: 'a1', range: '7d', custom: { from: '2026-11-01' }, filters: { page: '' } }), '?account=a1')
  assert.deepEqual(readView('?range=nonsense&country=&x=1'), { account: null, range: '7d', custom: {}, resolution: null, filters: {} })
})

test('y ticks are whole steps of 1, 2 or 5 that reach the maximum', () => {
  assert.deepEqual(niceTicks(0), [0, 1])
  assert.deepEqual(niceTicks(3), [0, 1, 2, 3])
  assert.deepEqual(niceTicks(7), [0, 2, 4, 6, 8])
  for (const max of [1, 9, 10, 11, 99, 101, 1234, 98765]) {
    const t = niceTicks(max)
    const step = t[1] - t[0]
    assert.ok(t[t.length - 1] >= max && t[t.length - 2] < max, `${max}: ${t}`)
    assert.ok(t.every((v, i) => v === i * step && Number.isInteger(v)), `${max}: ${t}`)
    assert.match(String(step), /^[125]0*$/, `${max}: step ${step}`)
    assert.ok(t.length >= 2 && t.length <= 7, `${max}: ${t}`)
  }
})

test('after login: the last used account, else the first, else the console', () => {
  const grants = [{ accountId: 'a', state: 'active' }, { accountId: 'b', state: 'active' }, { accountId: 'c', state: 'pending' }]
  assert.equal(landingAfterLogin({ grants }, 'b'), '/auditorium/?account=b')
  assert.equal(landingAfterLogin({ grants }, 'c'), '/auditorium/')
  assert.equal(landingAfterLogin({ grants: [grants[2]] }, 'c'), '/console/')
})

test('pages read as paths on one host, as host and path on several', () => {
  const i18n = createI18n('en')
  const one = keyLabeler(i18n, { pages: [{ key: 'https://x.org/a' }, { key: 'https://x.org/' }], realtime: { pages: [] } })
  assert.equal(one('page', 'https://x.org/a'), '/a')
  assert.equal(one('exit', 'https://x.org/'), '/')
  assert.equal(one('referrer', 'x.org'), 'x.org')
  assert.equal(one('country', 'DE'), 'Germany')
  const two = keyLabeler(i18n, { pages: [{ key: 'https://x.org/a' }], landingPages: [{ key: 'https://blog.x.org/b' }] })
  assert.equal(two('page', 'https://x.org/a'), 'x.org/a')
  assert.equal(two('landing', 'https://blog.x.org/b'), 'blog.x.org/b')
  const schemes = keyLabeler(i18n, { pages: [{ key: 'https://x.org/a' }, { key: 'http://x.org/a' }] })
  assert.equal(schemes('page', 'http://x.org/a'), 'http://x.org/a')
})
