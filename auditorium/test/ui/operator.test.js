// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { installDom, renderPage, waitFor, settle } from './dom.js'
import { addEvent, addVisitor, createAccount, createFakeApi, fakeSession, inProcessMetrics } from '../dashboard/world.js'

installDom('http://127.0.0.1/auditorium/')
globalThis.IDBKeyRange = IDBKeyRange
const { html } = await import('../../src/lib/html.js')
const { OperatorDashboard } = await import('../../src/dashboard/operator.js')

const { render } = await import('preact')
const DAY = 24 * 3600 * 1000
const NOW = Date.now()
afterEach(() => render(null, document.getElementById('app'))) // stops timers and workers

async function setup ({ retentionDays = 186, pages = 3 } = {}) {
  const acc = await createAccount({ name: 'Shop', retentionDays })
  const other = await createAccount({ name: 'Blog' })
  for (let i = 0; i < 4; i++) {
    const v = await addVisitor(acc)
    for (let j = 0; j < pages; j++) {
      await addEvent(acc, v, NOW - 2 * DAY + i * 3600000 + j * 60000, {
        href: `https://www.example.com/p${j}`,
        referrer: j === 0 && i % 2 === 0 ? 'https://www.google.com/search' : '',
        geo: i % 2 === 0 ? 'DE' : 'FR'
      })
    }
  }
  const login = {
    loginId: 'login-ui',
    grants: [
      { accountId: acc.accountId, name: 'Shop', role: 'admin', state: 'active' },
      { accountId: other.accountId, name: 'Blog', role: 'viewer', state: 'active' }
    ]
  }
  const factory = new IDBFactory()
  const services = {
    api: createFakeApi([acc, other]),
    session: fakeSession([acc, other]),
    factory,
    createMetrics: () => inProcessMetrics(factory),
    refreshMs: 3600000
  }
  window.history.replaceState(null, '', '/auditorium/?account=' + acc.accountId)
  const page = await renderPage(html`<${OperatorDashboard} login=${login} />`, { services })
  const dashboard = await waitFor(() => page.root.querySelector('.dashboard[data-state="ready"]'), 10000)
  return { ...page, dashboard, acc }
}

const figure = (root, name) => root.querySelector(`[data-figure="${name}"] .figure-value`).textContent

test('operator dashboard renders every panel of the metrics', async () => {
  const { root } = await setup()
  assert.match(root.querySelector('h1').textContent, /Shop/)
  assert.equal(figure(root, 'pageViews'), '12')
  assert.equal(figure(root, 'uniqueVisitors'), '4')
  assert.equal(figure(root, 'uniqueSessions'), '4')
  assert.equal(figure(root, 'bounceRate'), '0%')
  for (const p of ['figures', 'chart', 'pages', 'referrers', 'campaigns', 'sources', 'countries', 'landingPages', 'exitPages', 'realtime', 'retention']) {
    assert.ok(root.querySelector(`[data-panel="${p}"]`), p)
  }
  assert.ok(root.querySelector('svg.chart[role="img"]'))
  assert.ok(root.querySelector('details.table-equivalent table tbody tr'))
  assert.ok(root.querySelector('[data-panel="referrers"] tr[data-key="Google"]'))
  assert.match(root.querySelector('[data-panel="countries"]').textContent, /Germany/)
  assert.doesNotMatch(root.textContent, /dashboard\.[a-zA-Z]/, 'no untranslated key')
  // the account switcher lists both accounts
  assert.equal(root.querySelectorAll('#account-select option').length, 2)
})

test('clicking a table row filters every figure', async () => {
  const { root } = await setup()
  root.querySelector('[data-panel="countries"] tr[data-key="FR"] td').click()
  await waitFor(() => root.querySelector('.chip[data-filter="country"]') && root.querySelector('.dashboard[data-state="ready"]') && figure(root, 'pageViews') === '6')
  assert.equal(figure(root, 'uniqueVisitors'), '2')
  root.querySelector('.chip[data-filter="country"] button').click()
  await waitFor(() => !root.querySelector('.chip') && figure(root, 'pageViews') === '12')
})

test('tables show 10 rows and "show all"', async () => {
  const { root } = await setup({ pages: 14 })
  const rows = () => root.querySelectorAll('[data-panel="pages"] tbody tr').length
  assert.equal(rows(), 10)
  const button = root.querySelector('[data-panel="pages"] button[aria-expanded]')
  assert.match(button.textContent, /14/)
  button.click()
  await settle()
  assert.equal(rows(), 14)
  assert.equal(button.getAttribute('aria-expanded'), 'true')
})

test('ranges beyond the retention are disabled', async () => {
  const { root } = await setup({ retentionDays: 30 })
  const disabled = [...root.querySelectorAll('#range-select option')].filter(o => o.disabled).map(o => o.value)
  assert.deepEqual(disabled, ['6w', '12w', '6m'])
  assert.equal(root.querySelector('#range-select').value, '7d')
  // returning visitors are shown for 7 days, within the retention
  assert.ok(root.querySelector('[data-figure="returningVisitors"]'))
})
