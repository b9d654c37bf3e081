// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Headless Chromium over the DevTools pipe and a tiny server for the metrics worker, shared by
// browser.test.js and bench/browser-bench.mjs.

import assert from 'node:assert/strict'
import http from 'node:http'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as esbuild from 'esbuild'

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
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
  const dir = mkdtempSync(join(tmpdir(), 'offen-chromium-'))
  const proc = spawn(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--remote-debugging-pipe', '--user-data-dir=' + dir, 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true })
  const exited = new Promise(resolve => proc.once('exit', resolve))
  cleanup(async () => {
    // Helper processes share the group and may write to the profile after
    // the browser has exited: stop them all, and never fail on a leftover.
    try { process.kill(-proc.pid, 'SIGKILL') } catch {}
    await exited
    try { rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }) } catch {}
  })
  const pending = new Map()
  let id = 0
  let buf = ''
  proc.stdio[4].setEncoding('utf8')
  proc.stdio[4].on('data', (chunk) => {
    buf += chunk
    for (let i; (i = buf.indexOf('\0')) >= 0; buf = buf.slice(i + 1)) {
      const msg = JSON.parse(buf.slice(0, i))
      if (msg.id && pending.has(msg.id)) {
        pending.get(msg.id)(msg)
        pending.delete(msg.id)
      }
    }
  })
  const call = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const n = ++id
    pending.set(n, msg => (msg.error ? reject(new Error(method + ': ' + msg.error.message)) : resolve(msg.result)))
    proc.stdio[3].write(JSON.stringify({ id: n, method, params, sessionId }) + '\0')
  })
  const { targetId } = await call('Target.createTarget', { url: 'about:blank' })
  const { sessionId } = await call('Target.attachToTarget', { targetId, flatten: true })
  const page = (method, params) => call(method, params, sessionId)
  await page('Page.enable')
  const evaluate = async (expression) => {
    const r = await page('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.text + ' ' + JSON.stringify(r.exceptionDetails.exception?.description))
    return r.result.value
  }
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

