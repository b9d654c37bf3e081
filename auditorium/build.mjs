// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Builds the auditorium into dist/: content-hashed bundles under dist/assets/ and an
// index.html shell that references them (no inline scripts or styles, for a strict CSP).
// First the metrics worker is built, then the app, which learns the worker's URL at build
// time. Usage: node build.mjs [--dev] (unminified, with source maps).

import * as esbuild from 'esbuild'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(fileURLToPath(import.meta.url))
const dist = path.join(root, 'dist')
const base = '/auditorium/'
const dev = process.argv.includes('--dev')

const common = {
  bundle: true,
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  target: ['chrome100', 'firefox115', 'safari16'],
  outdir: dist,
  entryNames: 'assets/[name]-[hash]',
  chunkNames: 'assets/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning'
}

function outputs (result, ext) {
  return Object.keys(result.metafile.outputs)
    .filter(f => f.endsWith(ext))
    .map(f => base + path.relative(dist, path.join(root, f)).split(path.sep).join('/'))
}

async function clean () {
  await mkdir(dist, { recursive: true })
  for (const name of await readdir(dist)) {
    if (name !== '.gitkeep') await rm(path.join(dist, name), { recursive: true, force: true })
  }
}

async function main () {
  await clean()
  const worker = await esbuild.build({
    ...common,
    entryPoints: { worker: path.join(root, 'src/metrics/worker.js'), 'dashboard-worker': path.join(root, 'src/dashboard/worker.js') },
    format: 'iife'
  })
  const workerUrl = outputs(worker, '.js').find(f => /\/worker-[^/]+\.js$/.test(f))
  const dashboardWorkerUrl = outputs(worker, '.js').find(f => /\/dashboard-worker-[^/]+\.js$/.test(f))
  const app = await esbuild.build({
    ...common,
    entryPoints: { index: path.join(root, 'src/index.js') },
    format: 'esm',
    splitting: true,
    define: { __OFFEN_METRICS_WORKER__: JSON.stringify(workerUrl), __OFFEN_DASHBOARD_WORKER__: JSON.stringify(dashboardWorkerUrl) }
  })
  const scripts = outputs(app, '.js').filter(f => /\/index-[^/]+\.js$/.test(f))
  const styles = outputs(app, '.css')
  const html = `<!DOCTYPE html>
<!-- SPDX-FileCopyrightText: 2026 Offen developers -->
<!-- SPDX-License-Identifier: Apache-2.0 -->
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Offen</title>
${styles.map(href => `<link rel="stylesheet" href="${href}">`).join('\n')}
${scripts.map(src => `<script type="module" src="${src}"></script>`).join('\n')}
</head>
<body>
<div id="app"></div>
</body>
</html>
`
  await writeFile(path.join(dist, 'index.html'), html)
  console.log(`auditorium: built ${scripts.concat(styles, [workerUrl, dashboardWorkerUrl]).join(', ')}`)
}

main().catch((err) => {
  console.error(err.message || err)
  process.exit(1)
})
