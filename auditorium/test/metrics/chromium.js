// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Headless Chromium over the DevTools pipe and a tiny server for the metrics worker, shared by
// browser.test.js and bench/browser-bench.mjs.

import assert from 'node:assert/strict'
import http from 'node:http'
import { readdirSync, readFileSync } from 'node:fs'
import * as esbuild from 'esbuild'
import { CHROMIUM, launchChromium } from '../../../script/test/chromium.js'

export { CHROMIUM }
const dist = new URL('../../dist/', import.meta.url)

/**
 * serve starts an HTTP server on 127.0.0.1 with a blank page under a strict CSP, the page
 * bundle /harness.js (test/metrics/harness.js) and the built worker; routes maps further
 * paths to [type, body]. Returns {origin, workerUrl}; cleanup(fn) registers the shutdown.
 */
export async function serve (cleanup, routes = {}) {
  const assets = readdirSync(new URL('assets/', dist))
  const worker = assets.find(f => /^worker-.*\.js$/.test(f))
  assert.ok(worker, 'dist/assets has no worker bundle: run node build.mjs')
  const harness = await esbuild.build({
    entryPoints: [new URL('harness.js', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    write: false
  })
  const csp = "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; base-uri 'none'"
  const server = http.createServer((req, res) => {
    const send = (type, body) => {
      res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': csp })
      res.end(body)
    }
    if (req.url === '/') return send('text/html', '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>metrics</title></head><body></body></html>')
    if (req.url === '/harness.js') return send('text/javascript', harness.outputFiles[0].contents)
    if (Object.hasOwn(routes, req.url)) return send(...routes[req.url])
    if (req.url === '/auditorium/assets/' + worker) return send('text/javascript', readFileSync(new URL('assets/' + worker, dist)))
    res.writeHead(404)
    res.end()
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  cleanup(() => new Promise(resolve => server.close(resolve)))
  return { origin: `http://127.0.0.1:${server.address().port}`, workerUrl: '/auditorium/assets/' + worker }
}

/**
 * launch starts headless Chromium with a fresh profile over the DevTools pipe and returns
 * {page(method, params), open(url), evaluate(expression)} for one tab.
 */
export async function launch (cleanup) {
  const { page, value } = await launchChromium(cleanup)
  const evaluate = (expression) => value({ expression })
  return {
    page,
    evaluate,
    open: async (url) => {
      await page('Page.navigate', { url })
      for (let i = 0; i < 200 && await evaluate('location.href + document.readyState').catch(() => '') !== url + 'complete'; i++) {
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    },
  }
}

