// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { installDom, renderPage, settle, waitFor } from './dom.js'
import { inProcessMetrics, nextUlid } from '../dashboard/world.js'
import { encryptEvent, importAesKey, generateUserSecret, newKeyId, newSessionId, newUuid } from '../../../keys/js/crypto.js'
import { SECRETS, VISITOR_EVENTS, createStorage, transact } from '../../../script/src/storage.js'

installDom('http://127.0.0.1/auditorium/')
globalThis.IDBKeyRange = IDBKeyRange
const { html } = await import('../../src/lib/html.js')
const { VisitorView } = await import('../../src/dashboard/visitor.js')
const { toCsv } = await import('../../src/dashboard/visitor-data.js')
const { render } = await import('preact')
afterEach(() => render(null, document.getElementById('app')))

const NOW = Date.now()

// A visitor with events in two accounts (and one event whose key this browser lacks).
async function visitorWorld () {
  const factory = new IDBFactory()
  const storage = createStorage(factory)
  const accounts = [{ accountId: newUuid(), name: 'Shop' }, { accountId: newUuid(), name: 'Blog' }]
  const events = []
  for (const [i, acc] of accounts.entries()) {
    const raw = generateUserSecret()
    const keyId = newKeyId()
    await storage.putSecret({ keyId, accountId: acc.accountId, key: await importAesKey(raw), createdAt: i, exchanged: true })
    const sessionId = newSessionId()
    for (let j = 0; j < 3; j++) {
      const t = NOW - 3600000 * (i + 1) + j * 30000
      const payload = { v: 1, type: 'PAGEVIEW', href: `https://${acc.name.toLowerCase()}.example/p${j}`, referrer: '', pageload: 50, timestamp: new Date(t).toISOString(), sessionId, geo: 'DE', isMobile: false }
      events.push({ accountId: acc.accountId, eventId: nextUlid(t), keyId, payload: await encryptEvent(raw, acc.accountId, payload), plain: payload })
    }
  }
  // an event under a key this browser does not hold
  events.push({ accountId: accounts[0].accountId, eventId: nextUlid(NOW - 1000), keyId: newKeyId(), payload: await encryptEvent(generateUserSecret(), accounts[0].accountId, { v: 1 }) })
  const calls = []
  let purged = false
  const names = Object.fromEntries(accounts.map(a => [a.accountId, { name: a.name }]))
  const api = {
    async get (path) {
      calls.push('GET ' + path)
      const since = new URL(path, 'http://x').searchParams.get('since')
      const list = purged || since ? [] : events
      return { events: list.map(({ plain, ...e }) => e), tombstones: [], accounts: names, retentionDays: 186, next: 'c1', more: false, reset: false }
    },
    async post (path, body) {
      calls.push('POST ' + path + ' ' + JSON.stringify(body))
      if (path === '/api/purge') purged = true
      return null
    },
    async request (method, path) {
      calls.push(method + ' ' + path)
      const body = events.map(({ plain, ...e }) => JSON.stringify({ ...e, accountName: names[e.accountId].name })).join('\n') + '\n'
      return new Response(body, { status: 200, headers: { 'Content-Type': 'application/x-ndjson' } })
    }
  }
  return { factory, api, calls, accounts, events }
}

async function mount (w) {
  const page = await renderPage(html`<${VisitorView} />`, { services: { api: w.api, factory: w.factory, createMetrics: () => inProcessMetrics(w.factory, 1), refreshMs: 3600000 } })
  await waitFor(() => page.root.querySelector('.dashboard[data-state="ready"]'), 10000)
  return page
}

const figure = (root, name) => root.querySelector(`[data-figure="${name}"] .figure-value`).textContent

test('visitor view: own events across accounts, explanations, onboarding, unreadable counted', async () => {
  window.localStorage.clear()
  const w = await visitorWorld()
  const { root } = await mount(w)
  assert.equal(figure(root, 'pageViews'), '6')
  assert.equal(figure(root, 'uniqueSessions'), '2')
  assert.match(root.querySelector('[data-panel="accounts"]').textContent, /Blog[\s\S]*Shop|Shop[\s\S]*Blog/)
  for (const p of ['figures', 'chart', 'pages', 'referrers', 'countries', 'realtime', 'retention']) {
    assert.ok(root.querySelector(`[data-panel="${p}"] .panel-explain`), 'explanation on ' + p)
  }
  assert.equal(root.querySelector('[data-unreadable]').dataset.unreadable, '1')
  // onboarding: three steps, then remembered
  assert.equal(root.querySelector('.onboarding').dataset.step, 'welcome')
  root.querySelector('.onboarding .button-primary').click()
  await settle()
  assert.equal(root.querySelector('.onboarding').dataset.step, 'encryption')
  root.querySelector('.onboarding .button-primary').click()
  await settle()
  root.querySelector('.onboarding .button-primary').click()
  await settle()
  assert.equal(root.querySelector('.onboarding'), null)
  assert.doesNotMatch(root.textContent, /dashboard\.[a-zA-Z]/)
  render(null, root)
  await mount(w)
  assert.equal(document.querySelector('.onboarding'), null, 'not shown again')
  // Shown once also when it is not dismissed: the next visit goes to the data.
  render(null, root)
  window.localStorage.clear()
  await mount(w)
  assert.ok(document.querySelector('.onboarding'), 'shown on a first visit')
  render(null, root)
  await mount(w)
  assert.equal(document.querySelector('.onboarding'), null, 'not shown on the second visit, though not dismissed')
  // cached: the second load did not need the events again
  const local = await transact(w.factory, VISITOR_EVENTS, 'readonly', s => s[VISITOR_EVENTS].count())
  assert.equal(local, 7)
})

test('visitor view: export, delete, opt out and opt in', async () => {
  document.cookie = 'consent=allow; Path=/'
  const w = await visitorWorld()
  const { root, announced } = await mount(w)
  // export: the download gets the decrypted records
  const made = []
  const orig = URL.createObjectURL
  URL.createObjectURL = (blob) => { made.push(blob); return 'blob:x' }
  URL.revokeObjectURL = () => {}
  const click = window.HTMLAnchorElement.prototype.click
  window.HTMLAnchorElement.prototype.click = function () {} // happy-dom would navigate to the blob
  root.querySelector('[data-action="export-json"]').click()
  await waitFor(() => made.length === 1)
  const records = JSON.parse(await made[0].text())
  assert.equal(records.length, 7)
  assert.equal(records.filter(r => r.readable).length, 6)
  assert.ok(records.some(r => r.href === 'https://blog.example/p2' && r.accountName === 'Blog'))
  root.querySelector('[data-action="export-csv"]').click()
  await waitFor(() => made.length === 2)
  const csv = await made[1].text()
  assert.match(csv.split('\r\n')[0], /^accountId,accountName,eventId,readable,type,timestamp,href/)
  assert.equal(csv.trim().split('\r\n').length, 8)
  URL.createObjectURL = orig
  window.HTMLAnchorElement.prototype.click = click

  // delete: confirm, purge on the server, empty figures
  const del = [...root.querySelectorAll('[data-panel="rights"] button')].find(b => /Delete my data/.test(b.textContent))
  del.click()
  await settle()
  root.querySelector('[data-panel="rights"] .notice .button-danger').click()
  await waitFor(() => w.calls.includes('POST /api/purge {}') && figure(root, 'pageViews') === '0')
  assert.ok(announced.includes('Your data was deleted.'))

  // opt out: deny, purge with forget, local secrets gone
  const out = [...root.querySelectorAll('[data-panel="rights"] button')].find(b => b.textContent === 'Opt out')
  out.click()
  await settle()
  root.querySelector('[data-panel="rights"] .notice .button-danger').click()
  await waitFor(() => w.calls.includes('POST /api/purge {"forget":true}') && root.querySelector('[data-action="opt-in"]'))
  assert.match(document.cookie, /consent=deny/)
  assert.equal((await transact(w.factory, SECRETS, 'readonly', s => s[SECRETS].getAll())).length, 0)
  // Nothing is left: no export or delete of nothing, but what remains to do.
  await waitFor(() => root.querySelector('[data-testid="opted-out-next"]'))
  assert.equal(root.querySelector('[data-action="export-json"]'), null)
  assert.ok(![...root.querySelectorAll('[data-panel="rights"] button')].some(b => /Delete my data/.test(b.textContent)))

  root.querySelector('[data-action="opt-in"]').click()
  await settle()
  assert.match(document.cookie, /consent=allow/)
})

test('CSV quoting', () => {
  const csv = toCsv([{ accountId: 'a', accountName: 'Say "hi", ok', eventId: 'e', readable: true, href: 'https://x/?a=1,2' }])
  assert.equal(csv.split('\r\n')[1], 'a,"Say ""hi"", ok",e,true,,,"https://x/?a=1,2",,,,,,,,,,,,,,')
})

test('CSV: the fields beyond page views, props as JSON', () => {
  const [head, row] = toCsv([{
    accountId: 'a', eventId: 'e', readable: true, type: 'EVENT', name: 'Signup', props: { plan: 'pro', seats: 3 }, browser: 'Firefox', os: 'Linux', device: 'desktop', screen: 'large'
  }, { accountId: 'a', eventId: 'f', readable: true, type: 'OUTBOUND', target: 'https://other.example/x' }]).split('\r\n')
  assert.equal(head.split(',').slice(13).join(','), 'name,props,target,notFound,browser,os,device,screen')
  assert.match(row, /,Signup,"\{""plan"":""pro"",""seats"":3\}",,,Firefox,Linux,desktop,large$/)
})
