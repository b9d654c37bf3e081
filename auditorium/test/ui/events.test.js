// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator dashboard's panels beyond page views: goals and funnels opened from the
// account's sealed definitions, custom events with their props, device tables, and rows
// that filter every other panel.

import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { installDom, renderPage, waitFor } from './dom.js'
import { addEvent, addVisitor, createAccount, createFakeApi, fakeSession, inProcessMetrics } from '../dashboard/world.js'

installDom('http://127.0.0.1/auditorium/')
globalThis.IDBKeyRange = IDBKeyRange
const { html } = await import('../../src/lib/html.js')
const { OperatorDashboard } = await import('../../src/dashboard/operator.js')
const { sealDefinitions } = await import('../../src/dashboard/definitions.js')
const { render } = await import('preact')
const NOW = Date.now()
afterEach(() => render(null, document.getElementById('app')))

const P = (path) => 'https://www.example.com' + path
const devices = [
  { browser: 'Firefox', os: 'Linux', device: 'desktop', screen: 'large' },
  { browser: 'Safari', os: 'iOS', device: 'mobile', screen: 'small' },
  { browser: 'Firefox', os: 'Windows', device: 'desktop', screen: 'xlarge' }
]

// three visitors: each views / then /pricing; the first two sign up there (plans pro, free),
// the first also follows an outbound link
async function setup () {
  const acc = await createAccount({ name: 'Shop' })
  for (let i = 0; i < 3; i++) {
    const v = await addVisitor(acc)
    const t = NOW - 3600000 + i * 600000
    const d = devices[i]
    await addEvent(acc, v, t, { href: P('/'), ...d })
    await addEvent(acc, v, t + 1000, { href: P('/pricing'), ...d })
    if (i < 2) await addEvent(acc, v, t + 2000, { type: 'EVENT', name: 'Signup', props: { plan: i ? 'free' : 'pro' }, href: P('/pricing'), pageload: null, ...d })
    if (i === 0) await addEvent(acc, v, t + 3000, { type: 'OUTBOUND', target: 'https://github.com/offen', href: P('/pricing'), pageload: null, ...d })
  }
  acc.account.goals = await sealDefinitions(acc.kek, acc.accountId, {
    goals: [{ name: 'Signed up', event: 'Signup' }, { name: 'Pricing', page: '/pricing' }],
    funnels: [{ name: 'Buy', steps: [{ page: '/' }, { page: '/pricing' }, { event: 'Signup' }] }]
  })
  const login = { loginId: 'login-ui', grants: [{ accountId: acc.accountId, name: 'Shop', role: 'admin', state: 'active' }] }
  const factory = new IDBFactory()
  const services = { api: createFakeApi([acc]), session: fakeSession([acc]), factory, createMetrics: () => inProcessMetrics(factory), refreshMs: 3600000 }
  window.history.replaceState(null, '', '/auditorium/?account=' + acc.accountId)
  const page = await renderPage(html`<${OperatorDashboard} login=${login} />`, { services })
  await waitFor(() => page.root.querySelector('.dashboard[data-state="ready"]'), 10000)
  return page
}

const cells = (root, panel) => [...root.querySelectorAll(`[data-panel="${panel}"] tbody tr`)].map(tr => [...tr.children].map(c => c.textContent.trim()))
const figure = (root, name) => root.querySelector(`[data-figure="${name}"] .figure-value`).textContent

test('events, goals, funnels and devices from the sealed definitions', async () => {
  const { root } = await setup()
  assert.equal(figure(root, 'pageViews'), '6', 'actions are no page views')
  assert.deepEqual(cells(root, 'events'), [['Signup', '2', '2', '66.7%']])
  assert.deepEqual(cells(root, 'goals'), [['Signed up', '2', '2', '66.7%'], ['Pricing', '3', '3', '100%']])
  assert.deepEqual(cells(root, 'outbound'), [['https://github.com/offen', '1', '1', '33.3%']])
  assert.deepEqual(cells(root, 'browsers'), [['Firefox', '2'], ['Safari', '1']])
  assert.deepEqual(cells(root, 'devices'), [['Desktop', '2'], ['Phone', '1']])
  assert.deepEqual(cells(root, 'screens'), [['Large (992 to 1439 px)', '1'], ['Small (under 576 px)', '1'], ['Very large (1440 px and more)', '1']])
  const funnel = root.querySelector('[data-funnel="Buy"]')
  assert.ok(funnel.querySelector('svg[role="img"] title'))
  assert.deepEqual([...funnel.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(c => c.textContent.trim())),
    [['1. /', '3', '0', '100%'], ['2. /pricing', '3', '0', '100%'], ['3. Signup', '2', '1', '66.7%']])
  assert.doesNotMatch(root.textContent, /dashboard\.[a-zA-Z]/, 'no untranslated key')
})

test('a click on an event shows its props and filters the rest; a device row filters too', async () => {
  const { root } = await setup()
  root.querySelector('[data-panel="events"] tr[data-key="Signup"] td').click()
  await waitFor(() => root.querySelector('.chip[data-filter="event"]') && root.querySelector('.dashboard[data-state="ready"]') && figure(root, 'uniqueVisitors') === '2')
  assert.deepEqual([...root.querySelectorAll('[data-props="Signup"] tbody tr')].map(tr => tr.getAttribute('data-key')), ['plan=free', 'plan=pro'])
  assert.deepEqual(cells(root, 'browsers'), [['Firefox', '1'], ['Safari', '1']])
  root.querySelector('.chip[data-filter="event"] button').click()
  await waitFor(() => !root.querySelector('.chip') && figure(root, 'uniqueVisitors') === '3')
  root.querySelector('[data-panel="devices"] tr[data-key="mobile"] td').click()
  await waitFor(() => root.querySelector('.chip[data-filter="device"]') && figure(root, 'uniqueVisitors') === '1')
  assert.deepEqual(cells(root, 'events'), [['Signup', '1', '1', '100%']])
})
