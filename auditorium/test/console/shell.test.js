// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The sign-in pages and the console inside the real SPA shell: router, i18n, the API client
// of lib/api.js (over the in-memory API) and the session service of lib/session.js on
// fake-indexeddb. Setup, the console, logout, login, and a reload that needs no password.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { installDom, settle, waitFor, readPo, type, submit, IDBFactory } from './harness.js'
import { createFakeApi } from './fake-api.js'
import { inProcessMetrics } from '../dashboard/world.js'

installDom('http://offen.test/')
const { render } = await import('preact')
const { html } = await import('../../src/lib/html.js')
const { App } = await import('../../src/app.js')
const { createI18n } = await import('../../src/lib/i18n.js')
const { createRouter } = await import('../../src/lib/router.js')
const { createApi } = await import('../../src/lib/api.js')
const { createSession } = await import('../../src/lib/session.js')
const { routes } = await import('../../src/routes.js')

const en = { ...(await readPo('dashboard')), ...(await readPo('vault')), ...(await readPo('auditorium')) }
const PASSWORD = 'correct horse battery staple'
const EMAIL = 'admin@example.org'
const root = document.getElementById('app')
const $ = (sel) => root.querySelector(sel)

let router = null
function mount (fake, factory, path) {
  if (router) router.stop()
  window.history.replaceState(null, '', path)
  let session = null
  const api = createApi({ fetch: fake.fetch, onUnauthorized: () => session && session.forget() })
  session = createSession({ api, factory })
  router = createRouter(routes)
  render(null, root)
  render(html`<${App} i18n=${createI18n('en', en)} services=${{ api, session, router, createMetrics: () => inProcessMetrics(factory) }} />`, root)
  session.restore().catch(() => {})
  return { session }
}

test('setup, console, logout, login and reload through the shell', async () => {
  const fake = createFakeApi()
  const factory = new IDBFactory()
  mount(fake, factory, '/setup/#setup-token')
  await waitFor(() => $('#setup-email'))
  assert.equal($('h1').id, 'page-title')
  await type($('#setup-email'), EMAIL)
  await type($('#setup-account'), 'example.org')
  await type($('#setup-password'), PASSWORD)
  await type($('#setup-password-confirm'), PASSWORD)
  await submit($('form'))
  await waitFor(() => $('[data-testid="recovery-code"]'))
  await type($('#recovery-stored'), true)
  await submit($('.recovery form'))
  await waitFor(() => location.pathname === '/console/' && $('[data-testid="accounts"]'))
  assert.equal(location.hash, '', 'the setup token leaves the address')
  assert.match($('[data-testid="accounts"]').textContent, /example\.org/)
  assert.match(document.title, new RegExp(en['dashboard.route.console']))

  // Logout from the console.
  const logout = [...root.querySelectorAll('.console button')].find((b) => b.textContent === en['console.logout.submit'])
  logout.click()
  await waitFor(() => location.pathname === '/login/' && $('#login-email'))
  assert.equal(fake.session, null)

  // Login again: it leads to the dashboard of the (only) account.
  await type($('#login-email'), EMAIL)
  await type($('#login-password'), PASSWORD)
  await submit($('form'))
  await waitFor(() => location.pathname === '/auditorium/' && $('.dashboard') && document.title.startsWith(en['dashboard.route.dashboard']))
  assert.equal($('.site-header a[aria-current="page"]').textContent, en['dashboard.nav.dashboard'])

  // A reload: a new session service over the same IndexedDB needs no password.
  mount(fake, factory, '/console/')
  await waitFor(() => $('[data-testid="accounts"]'))
  const accountId = [...fake.db.accounts.keys()][0]
  $('[data-testid="accounts"] button').click()
  await waitFor(() => $('[data-testid="people"]') && $('[data-testid="people"]').textContent.includes(EMAIL))
  assert.match($('#snippet-embed').value, new RegExp(accountId))
  await settle()
})

test('another login signing in first forgets the previous login (keys and caches)', async () => {
  const { createFakeApi: make } = await import('./fake-api.js')
  const flows = await import('../../src/pages/auth/flows.js')
  const { createStorage } = await import('../../../script/src/storage.js')
  const { sessionKeys } = await import('../../src/pages/auth/shell.js')
  const fake = make()
  const a = await flows.setup(fake, { setupToken: 'setup-token', email: EMAIL, password: PASSWORD, accountName: 'a.example.org' })
  const inv = await flows.invite(fake, { email: 'b@example.org', grants: [{ accountId: a.state.grants[0].accountId, role: 'viewer' }], keks: a.keks })
  const i = await flows.inviteFromFragment(inv.joinLink.split('#')[1])
  await flows.join(fake, { token: i.token, inviteWrapKey: i.inviteWrapKey, lookup: await flows.joinLookup(fake, i.token), password: 'second passphrase here' })

  const factory = new IDBFactory()
  const session = createSession({ api: createApi({ fetch: fake.fetch }), factory })
  const forgotten = []
  session.onForget((id) => forgotten.push(id))
  const keys = sessionKeys(session)
  await keys.signedIn(await flows.login(fake, EMAIL, PASSWORD), EMAIL)
  assert.equal(keys.current().email, EMAIL)
  const b = await flows.login(fake, 'b@example.org', 'second passphrase here')
  await keys.signedIn(b, 'b@example.org')
  assert.deepEqual(forgotten, [a.state.loginId])
  assert.equal(await createStorage(factory).wrapKey(a.state.loginId), undefined)
  assert.ok(await createStorage(factory).wrapKey(b.state.loginId))
  assert.equal(keys.current().state.loginId, b.state.loginId)
  assert.equal(keys.current().email, 'b@example.org')
})

test('a signed-out page load does not create the database', async () => {
  const fake = createFakeApi()
  const factory = new IDBFactory()
  const session = createSession({ api: createApi({ fetch: fake.fetch }), factory })
  await session.restore()
  assert.equal(session.state.status, 'anonymous')
  assert.deepEqual(await factory.databases(), [])
})
