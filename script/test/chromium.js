// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Headless Chromium over the DevTools pipe, for the browser tests of the script and the
// auditorium (which imports this file by relative path, as it does script/src/storage.js).

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'

/**
 * launchChromium starts Chromium with a fresh profile and opens one tab. cleanup(fn)
 * registers the shutdown (browser, helper processes, profile). Returns
 * {page(method, params), value(params)}: page sends a DevTools command to the tab, value
 * runs Runtime.evaluate with params (awaiting promises, by value) and throws on exceptions.
 */
export async function launchChromium (cleanup) {
  const dir = mkdtempSync(join(tmpdir(), 'offen-chromium-'))
  const proc = spawn(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--remote-debugging-pipe', '--user-data-dir=' + dir, 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true })
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  cleanup(async () => {
    // Helper processes share the group and may write to the profile after the browser
    // has exited: stop them all, and never fail on a leftover profile.
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
    pending.set(n, (msg) => (msg.error ? reject(new Error(method + ': ' + msg.error.message)) : resolve(msg.result)))
    proc.stdio[3].write(JSON.stringify({ id: n, method, params, sessionId }) + '\0')
  })
  const { targetId } = await call('Target.createTarget', { url: 'about:blank' })
  const { sessionId } = await call('Target.attachToTarget', { targetId, flatten: true })
  const page = (method, params) => call(method, params, sessionId)
  await page('Page.enable')
  const value = async (params) => {
    const r = await page('Runtime.evaluate', { awaitPromise: true, returnByValue: true, ...params })
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.text + ' ' + JSON.stringify(r.exceptionDetails.exception?.description))
    return r.result.value
  }
  return { page, value }
}
