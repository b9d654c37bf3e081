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
const { OperatorDashboard, Progress } = await import('../../src/dashboard/operator.js')

const { render } = await import('preact')
const DAY = 24 * 3600 * 1000
const NOW = Date.now()
afterEach(() => render(null, document.getElementById('app'))) // stops timers and workers

async function setup ({ retentionDays = 186, pages = 3, search } = {}) {
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
    refreshMs: 3600000,
    now: () => NOW,
    loadWorldMap: async () => ({ width: 30, height: 10, countries: [['DE', 'M0,0h10v10h-10z'], ['FR', 'M10,0h10v10h-10z'], ['US', 'M20,0h10v10h-10z']] })
  }
  window.history.replaceState(null, '', '/auditorium/' + (search ? search(acc) : '?account=' + acc.accountId))
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
  assert.ok(root.querySelector('.chart-wrap[role="group"][tabindex="0"] svg.chart[aria-hidden="true"]'))
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

// downloads: the blobs offered; happy-dom would navigate to them on the link's click
async function withDownloads (fn) {
  const made = []
  const orig = URL.createObjectURL
  const click = window.HTMLAnchorElement.prototype.click
  URL.createObjectURL = (blob) => { made.push(blob); return 'blob:x' }
  window.HTMLAnchorElement.prototype.click = function () {}
  try {
    await fn(made)
  } finally {
    URL.createObjectURL = orig
    window.HTMLAnchorElement.prototype.click = click
  }
}

const ready = (root) => root.querySelector('.dashboard[data-state="ready"]')
const params = () => new URLSearchParams(window.location.search)

test('the view is the address: filters and ranges are history entries, restored on load and on back', async () => {
  const { root, acc } = await setup()
  const before = window.history.length
  root.querySelector('[data-panel="countries"] tr[data-key="FR"] td').click()
  await waitFor(() => ready(root) && figure(root, 'pageViews') === '6')
  assert.equal(params().get('country'), 'FR')
  assert.equal(params().get('account'), acc.accountId)
  assert.equal(window.history.length, before + 1)
  const select = root.querySelector('#range-select')
  select.value = '30d'
  select.dispatchEvent(new Event('change', { bubbles: true }))
  await waitFor(() => params().get('range') === '30d' && ready(root))
  assert.equal(figure(root, 'pageViews'), '6', 'the filter stays')
  window.history.back()
  await waitFor(() => params().get('range') === null && ready(root) && root.querySelector('#range-select').value === '7d')
  assert.equal(params().get('country'), 'FR')
  window.history.back()
  await waitFor(() => !params().get('country') && ready(root) && figure(root, 'pageViews') === '12')
  window.history.forward()
  await waitFor(() => params().get('country') === 'FR' && ready(root) && figure(root, 'pageViews') === '6')
})

test('a bookmarked address restores range, dates and filters; custom dates start from the range shown', async () => {
  const day = (ms) => new Date(ms).toLocaleDateString('sv') // YYYY-MM-DD, local
  const from = day(NOW - 3 * DAY)
  const to = day(NOW)
  const { root } = await setup({ search: (acc) => `?account=${acc.accountId}&range=custom&from=${from}&to=${to}&page=${encodeURIComponent('https://www.example.com/p1')}` })
  assert.equal(root.querySelector('#range-select').value, 'custom')
  assert.equal(root.querySelector('#range-from').value, from)
  assert.equal(figure(root, 'pageViews'), '4')
  assert.match(root.querySelector('.chip[data-filter="page"]').textContent, /\/p1/)
  // paths, not URLs, on a one-host account; the key keeps the URL
  assert.equal(root.querySelector('[data-panel="pages"] tbody th').textContent.trim(), '/p1')
  // a filter is set: real time and retention say they ignore it
  assert.ok(root.querySelector('[data-panel="realtime"] .panel-note'))
  assert.ok(root.querySelector('[data-panel="retention"] .panel-note'))
  assert.ok(!root.querySelector('[data-panel="pages"] .panel-note'))

  // another range, then custom again: the dates are those of the range shown
  const select = root.querySelector('#range-select')
  select.value = '30d'
  select.dispatchEvent(new Event('change', { bubbles: true }))
  await waitFor(() => params().get('range') === '30d' && ready(root))
  select.value = 'custom'
  select.dispatchEvent(new Event('change', { bubbles: true }))
  await waitFor(() => params().get('range') === 'custom' && ready(root))
  assert.equal(params().get('from'), day(NOW - 29 * DAY))
  assert.equal(params().get('to'), day(NOW))
  assert.equal(root.querySelector('#range-to').value, day(NOW))

  // reversed dates: the last figures stay, marked stale, until the dates are valid
  const input = root.querySelector('#range-from')
  input.value = day(NOW + DAY)
  input.dispatchEvent(new Event('change', { bubbles: true }))
  await waitFor(() => root.querySelector('.dashboard[data-state="invalid"]'))
  assert.ok(root.querySelector('.metrics.stale[data-stale="true"]'))
  assert.ok(root.querySelector('[data-stale-notice]'))
  assert.equal(input.getAttribute('aria-invalid'), 'true')
  assert.equal(figure(root, 'pageViews'), '4')
  input.value = day(NOW - DAY)
  input.dispatchEvent(new Event('change', { bubbles: true }))
  await waitFor(() => ready(root) && !root.querySelector('.metrics.stale'))
})

test('the CSV of a table is the table shown', async () => {
  await withDownloads(async (downloads) => {
    const { root } = await setup()
    root.querySelector('[data-export="countries"]').click()
    await waitFor(() => downloads.length === 1)
    const csv = await downloads[0].text()
    const shown = [...root.querySelectorAll('[data-panel="countries"] tr')].map(tr => [...tr.children].map(c => c.textContent.trim()).join(','))
    assert.equal(csv, shown.join('\r\n') + '\r\n')
    assert.match(csv, /^Country,Sessions\r\nGermany,2\r\nFrance,2\r\n$/)
  })
})

test('the decrypted events of the range export as JSON and CSV', async () => {
  await withDownloads(async (downloads) => {
    const { root } = await setup()
    root.querySelector('[data-action="export-events-json"]').click()
    await waitFor(() => downloads.length === 1)
    const records = JSON.parse(await downloads[0].text())
    assert.equal(records.length, 12)
    assert.deepEqual(new Set(records.map(r => r.href)), new Set(['https://www.example.com/p0', 'https://www.example.com/p1', 'https://www.example.com/p2']))
    assert.ok(records.every(r => r.eventId && r.secretId && r.timestamp))
    await waitFor(() => !root.querySelector('[data-action="export-events-csv"]').disabled)
    root.querySelector('[data-action="export-events-csv"]').click()
    await waitFor(() => downloads.length === 2)
    const lines = (await downloads[1].text()).trim().split('\r\n')
    assert.equal(lines.length, 13)
    assert.match(lines[0], /^eventId,secretId,keyId,timestamp,type,href/)
  })
})

test('the chart reads out a period on arrow keys', async () => {
  const { root } = await setup()
  const wrap = root.querySelector('.chart-wrap')
  wrap.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }))
  await waitFor(() => /page views/.test(root.querySelector('#chart-readout').textContent))
  assert.ok(root.querySelector('.chart .chart-tip'))
  wrap.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }))
  await settle()
  assert.equal(root.querySelectorAll('.chart .bucket.active').length, 1)
  // every figure explains itself
  for (const li of root.querySelectorAll('[data-figure] .info')) {
    const tip = root.querySelector('#' + li.getAttribute('aria-describedby'))
    assert.ok(tip && tip.textContent.length > 10, li.getAttribute('aria-label'))
  }
})

test('the countries map shades countries by sessions; a click filters', async () => {
  const { root } = await setup()
  const path = (code) => root.querySelector(`[data-panel="countries"] svg.world-map path[data-country="${code}"]`)
  await waitFor(() => path('DE'))
  assert.equal(root.querySelector('svg.world-map').getAttribute('role'), 'img')
  assert.match(path('DE').getAttribute('class'), /shade-5/)
  assert.match(path('US').getAttribute('class'), /shade-0/)
  assert.match(path('FR').querySelector('title').textContent, /France: 2 sessions/)
  path('FR').dispatchEvent(new MouseEvent('click', { bubbles: true }))
  await waitFor(() => params().get('country') === 'FR' && ready(root) && figure(root, 'pageViews') === '6')
})

test('the loading bar shows the counts the loader reports, for any phase', async () => {
  const { root } = await renderPage(html`<div>
    <${Progress} progress=${{ phase: 'events', done: 500, total: 2000 }} id="a" />
    <${Progress} progress=${{ phase: 'periods', done: 3, total: 9 }} id="b" />
    <${Progress} progress=${{ phase: 'events', done: 1200 }} id="c" />
  </div>`)
  const bars = [...root.querySelectorAll('.progress')]
  assert.deepEqual(bars.map(b => b.querySelector('.progress-text').textContent), ['Events read: 500 of 2,000', 'Loading the data: 3 of 9', '1,200 events decrypted…'])
  assert.equal(bars[0].querySelector('progress').getAttribute('max'), '2000')
  assert.equal(bars[0].querySelector('progress').getAttribute('value'), '500')
  assert.equal(bars[2].querySelector('progress').hasAttribute('value'), false, 'indeterminate without a total')
  assert.equal(bars[1].querySelector('progress').getAttribute('aria-labelledby'), 'b-text')
})
