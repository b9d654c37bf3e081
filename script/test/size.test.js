// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Budgets on the built output (PROTOCOL §1; 2.5 KB for the script since custom events, issue 13) (npm test builds first).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const dist = new URL('../dist/', import.meta.url)
const gz = (path) => gzipSync(readFileSync(new URL(path, dist)), { level: 9 }).length

test('script.js < 2.5 KB gzip, vault JS < 20 KB gzip', () => {
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', dist), 'utf8'))
  const script = gz(manifest['script.js'])
  const vault = gz(manifest['vault.js'])
  console.log(`script.js ${script} B gzip, vault JS ${vault} B gzip`)
  assert.ok(script < 2560, `script.js is ${script} B gzip`)
  assert.ok(vault < 20480, `vault JS is ${vault} B gzip`)
})
