// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Builds the auditorium into dist/: content-hashed bundles under dist/assets/ and an
// index.html shell that references them (no inline scripts or styles, for a strict CSP).
// First the metrics worker is built, then the app, which learns the worker's URL at build
// time. The world map of the countries panel is projected here, once, from world-atlas
// (Natural Earth) into SVG paths keyed by ISO code (assets/world-<hash>.json, fetched only
// when a countries panel has rows), so the app ships neither TopoJSON nor a projection
// library. Usage: node build.mjs [--dev] (unminified, with source maps).

import * as esbuild from 'esbuild'
import { createHash } from 'node:crypto'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
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

// worldMap writes the pre-projected map and returns its URL: {width, height, countries:
// [[ISO 3166-1 alpha-2, SVG path]]} in the Equal Earth projection, Antarctica left out.
async function worldMap () {
  const { feature } = await import('topojson-client')
  const { geoEqualEarth, geoPath } = await import('d3-geo')
  const iso = (await import('i18n-iso-countries')).default
  const topo = JSON.parse(await readFile(path.join(root, 'node_modules/world-atlas/countries-110m.json'), 'utf8'))
  const shapes = feature(topo, topo.objects.countries).features.filter(f => f.id && f.id !== '010')
  const width = 960
  const height = 420
  const projection = geoEqualEarth().fitExtent([[2, 2], [width - 2, height - 2]], { type: 'FeatureCollection', features: shapes })
  const draw = geoPath(projection).digits(1)
  const countries = []
  for (const f of shapes) {
    const code = iso.numericToAlpha2(f.id)
    const d = draw(f)
    if (code && d) countries.push([code, d])
  }
  const body = JSON.stringify({ width, height, countries })
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 8).toUpperCase()
  const name = `assets/world-${hash}.json`
  await mkdir(path.join(dist, 'assets'), { recursive: true })
  await writeFile(path.join(dist, name), body)
  return base + name
}

async function main () {
  await clean()
  const worldMapUrl = await worldMap()
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
    define: { __OFFEN_METRICS_WORKER__: JSON.stringify(workerUrl), __OFFEN_DASHBOARD_WORKER__: JSON.stringify(dashboardWorkerUrl), __OFFEN_WORLD_MAP__: JSON.stringify(worldMapUrl) }
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
  console.log(`auditorium: built ${scripts.concat(styles, [workerUrl, dashboardWorkerUrl, worldMapUrl]).join(', ')}`)
}

main().catch((err) => {
  console.error(err.message || err)
  process.exit(1)
})
