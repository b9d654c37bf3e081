// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { catalogFromPo, installDom, settle, waitFor } from './dom.js'

installDom('http://127.0.0.1/')
const { render } = await import('preact')
const { html } = await import('../../src/lib/html.js')
const { App } = await import('../../src/app.js')
const { createI18n, chooseLanguage } = await import('../../src/lib/i18n.js')
const { createRouter } = await import('../../src/lib/router.js')
const { routes } = await import('../../src/routes.js')
const { ANONYMOUS } = await import('../../src/lib/session.js')

function fakeSession (status = ANONYMOUS) {
  const listeners = new Set()
  return {
    state: { status, login: null },
    subscribe: (fn) => { listeners.add(fn); return () => listeners.delete(fn) },
    logout: async () => {}
  }
}

let last = null
async function mount (path = '/') {
  if (last) last.stop()
  window.history.replaceState(null, '', path)
  const en = await catalogFromPo('en')
  const router = createRouter(routes)
  last = router
  const root = document.getElementById('app')
  render(null, root)
  render(html`<${App} i18n=${createI18n('en', en)} services=${{ router, session: fakeSession(), api: { request: async () => ({ required: false }) } }} />`, root)
  await settle()
  return { root, router, en }
}

test('landmarks, skip link and no untranslated keys', async () => {
  const { root } = await mount('/')
  assert.ok(root.querySelector('a.skip-link[href="#main"]'))
  assert.ok(root.querySelector('header nav'))
  assert.ok(root.querySelector('main#main'))
  assert.ok(root.querySelector('footer'))
  assert.ok(root.querySelector('[aria-live="polite"]'))
  assert.doesNotMatch(root.textContent, /dashboard\.[a-z]/)
  assert.match(document.title, /Offen/)
})

test('consent on the landing page is shown and changed', async () => {
  document.cookie = 'consent=; Max-Age=0; Path=/'
  const { root, en } = await mount('/')
  assert.equal(root.querySelector('.consent-status').textContent, en['dashboard.consent.undecided'])
  const [allow, deny] = root.querySelectorAll('.consent button')
  allow.click()
  await settle()
  assert.match(document.cookie, /consent=allow/)
  assert.equal(root.querySelector('.consent-status').textContent, en['dashboard.consent.allowed'])
  deny.click()
  await settle()
  assert.match(document.cookie, /consent=deny/)
  assert.equal(root.querySelector('.consent-status').dataset.consent, 'deny')
})

test('links navigate in place and keep ?locale=', async () => {
  const { root, router, en } = await mount('/?locale=de')
  const link = root.querySelector('a[href="/login/"]')
  link.click()
  await waitFor(() => window.location.pathname === '/login/' && root.querySelector('#login-email'))
  assert.equal(window.location.pathname, '/login/')
  assert.equal(new URLSearchParams(window.location.search).get('locale'), 'de')
  router.navigate('/join/#abc')
  await settle()
  assert.ok(root.querySelector('h1#page-title'))
  assert.match(document.title, new RegExp(en['dashboard.route.join']))
})

test('language choice: ?locale=, instance default, browser, English', () => {
  assert.equal(chooseLanguage({ search: '?locale=fr', doc: null, nav: { languages: ['de'] } }), 'fr')
  assert.equal(chooseLanguage({ search: '?locale=xx', doc: null, nav: { languages: ['de-AT'] } }), 'de')
  const doc = { querySelector: () => ({ getAttribute: () => 'vi' }) }
  assert.equal(chooseLanguage({ search: '', doc, nav: { languages: ['de'] } }), 'vi')
  assert.equal(chooseLanguage({ search: '', doc: null, nav: { languages: ['ja'] } }), 'en')
})

test('plurals and fallbacks', () => {
  const i18n = createI18n('fr', { 'x[one]': '{count} visiteur', 'x[other]': '{count} visiteurs', y: 'Bonjour {name}' }, { z: 'fallback' })
  assert.equal(i18n.tn('x', 1), '1 visiteur')
  assert.equal(i18n.tn('x', 0), '0 visiteur') // French: 0 is singular
  assert.equal(i18n.tn('x', 1500), '1\u202f500 visiteurs')
  assert.equal(i18n.t('y', { name: 'Ana' }), 'Bonjour Ana')
  assert.equal(i18n.t('z'), 'fallback')
  assert.equal(i18n.t('missing.key'), 'missing.key')
})
