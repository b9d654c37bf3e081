// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Builds dist/: script.js (stable name, minified) and the vault's JS and CSS under
// dist/vault/assets/ with content hashes, plus dist/manifest.json mapping logical names
// to the built files (paths relative to dist/, which are also their URL paths).
import * as esbuild from 'esbuild'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(fileURLToPath(import.meta.url))
const dist = join(root, 'dist')

for (const name of readdirSync(dist)) {
  if (name !== '.gitkeep') rmSync(join(dist, name), { recursive: true, force: true })
}
mkdirSync(join(dist, 'vault', 'assets'), { recursive: true })

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true
}

await esbuild.build({
  ...common,
  entryPoints: [join(root, 'src/script/index.js')],
  outfile: join(dist, 'script.js')
})

const vault = await esbuild.build({
  ...common,
  entryPoints: { vault: join(root, 'src/vault/main.js'), 'vault-style': join(root, 'src/vault/vault.css') },
  outdir: join(dist, 'vault', 'assets'),
  entryNames: '[name]-[hash]'
})

const manifest = { 'script.js': 'script.js' }
for (const [out, meta] of Object.entries(vault.metafile.outputs)) {
  const rel = relative(dist, join(process.cwd(), out)).split('\\').join('/')
  if (meta.entryPoint && meta.entryPoint.endsWith('main.js')) manifest['vault.js'] = rel
  if (meta.entryPoint && meta.entryPoint.endsWith('vault.css')) manifest['vault.css'] = rel
}
writeFileSync(join(dist, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
