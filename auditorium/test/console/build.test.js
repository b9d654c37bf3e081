// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The server serves the auditorium's scripts only from /auditorium/assets/, so every output
// of build.mjs, lazily loaded chunks too (such as the vault's base styles for the banner
// preview), must land in dist/assets/. npm test builds before it tests.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'

test('dist/ holds index.html and assets/ only; the banner preview chunk is an asset', async () => {
  const dist = new URL('../../dist/', import.meta.url)
  const names = (await readdir(dist)).filter((n) => n !== '.gitkeep').sort()
  assert.deepEqual(names, ['assets', 'index.html'])
  const assets = await readdir(new URL('assets/', dist))
  const index = assets.find((n) => /^index-.*\.js$/.test(n))
  const js = await readFile(new URL('assets/' + index, dist), 'utf8')
  for (const [, chunk] of js.matchAll(/import\("\.\/([^"]+\.js)"\)/g)) assert.ok(assets.includes(chunk), chunk + ' is in assets/')
  const vault = assets.find((n) => /^vault-.*\.js$/.test(n))
  assert.ok(vault, 'the vault base styles are a chunk')
  assert.match(await readFile(new URL('assets/' + vault, dist), 'utf8'), /offen-banner__buttons/)
})
