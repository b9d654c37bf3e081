// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The auth and console pages keep no strings of their own: every key they use is in
// locales/auditorium/en.po, and every key there is used (the Go test in locales/ checks
// that the other languages have the same keys and placeholders).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { readPo } from './harness.js'

const dirs = ['../../src/pages/auth/', '../../src/pages/console/']
// Keys built at run time from a prefix and a known set of values.
const dynamic = {
  'auth.password.level.': ['0', '1', '2', '3', '4'],
  'console.role.': ['viewer', 'admin'],
  'console.state.': ['active', 'pending', 'reshare'],
  'console.accounts.': ['pendingHint', 'reshareHint']
}

async function sources () {
  const out = []
  for (const d of dirs) {
    const url = new URL(d, import.meta.url)
    for (const f of await readdir(url)) if (f.endsWith('.js')) out.push(await readFile(new URL(f, url), 'utf8'))
  }
  return out.join('\n')
}

test('every key used exists in en.po and every en.po key is used', async () => {
  const en = await readPo('auditorium')
  const src = await sources()
  const used = new Set()
  for (const [, key] of src.matchAll(/'((?:auth|console)\.[A-Za-z0-9_.]+)'/g)) {
    if (key.endsWith('.')) continue
    used.add(key)
  }
  for (const [prefix, values] of Object.entries(dynamic)) for (const v of values) used.add(prefix + v)
  for (const [, code] of src.matchAll(/new FlowError\('([A-Za-z]+)'\)/g)) used.add('auth.error.' + code)
  const flows = await readFile(new URL('../../src/pages/auth/flows.js', import.meta.url), 'utf8')
  for (const [, code] of flows.matchAll(/new FlowError\('([A-Za-z]+)'\)/g)) used.add('auth.error.' + code)
  const missing = [...used].filter((k) => !(k in en))
  assert.deepEqual(missing, [], 'keys missing from locales/auditorium/en.po')
  const unused = Object.keys(en).filter((k) => !used.has(k))
  assert.deepEqual(unused, [], 'keys in en.po that no page uses')
})

test('every language translates every key (not a copy of English, where English is not universal)', async () => {
  const en = await readPo('auditorium')
  for (const lang of ['de', 'fr', 'es', 'pt', 'vi']) {
    const po = await readPo('auditorium', lang)
    assert.deepEqual(Object.keys(po).sort(), Object.keys(en).sort(), lang)
    const words = (s) => s.replace(/\{\w+\}/g, '').replace(/[^\p{L}]/gu, '')
    const copies = Object.keys(en).filter((k) => po[k] === en[k] && words(en[k]).length > 8)
    assert.deepEqual(copies, [], lang + ' copies English')
  }
})
