// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// A happy-dom window installed as the global DOM for component tests, with helpers to render
// the app or a single component with fake services and to wait for the DOM to settle.

import { Window } from 'happy-dom'

const GLOBALS = ['window', 'document', 'navigator', 'location', 'history', 'Node', 'Element', 'HTMLElement',
  'HTMLInputElement', 'HTMLSelectElement', 'HTMLAnchorElement', 'Event', 'MouseEvent', 'KeyboardEvent',
  'CustomEvent', 'SVGElement', 'localStorage', 'getComputedStyle', 'requestAnimationFrame', 'cancelAnimationFrame', 'Blob']

/** installDom(url) creates a window at url and makes it the global DOM; returns the window. */
export function installDom (url = 'http://127.0.0.1/') {
  const win = new Window({ url, settings: { navigation: { disableMainFrameNavigation: true } } })
  for (const name of GLOBALS) {
    if (name in win) {
      Object.defineProperty(globalThis, name, { value: name === 'window' ? win : win[name], configurable: true, writable: true })
    }
  }
  win.document.body.innerHTML = '<div id="app"></div>'
  return win
}

/** settle lets promises, effects and timers run (Preact renders effects after a frame). */
export async function settle (rounds = 5) {
  for (let i = 0; i < rounds; i++) {
    await new Promise(resolve => setTimeout(resolve, 0))
  }
}

/** waitFor polls fn until it returns a truthy value (or throws after timeout ms). */
export async function waitFor (fn, timeout = 5000) {
  const start = Date.now()
  for (;;) {
    let v
    try {
      v = fn()
    } catch {}
    if (v) return v
    if (Date.now() - start > timeout) throw new Error('waitFor: condition not met')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** catalogFromPo reads locales/dashboard/<lang>.po into a flat catalog (as the server serves it). */
export async function catalogFromPo (lang = 'en') {
  const { readFile } = await import('node:fs/promises')
  const text = await readFile(new URL(`../../../locales/dashboard/${lang}.po`, import.meta.url), 'utf8')
  const catalog = {}
  const unq = (s) => JSON.parse(s)
  let id = null
  let plural = false
  for (const line of text.split('\n')) {
    let m
    if ((m = /^msgid (".*")$/.exec(line))) { id = unq(m[1]); plural = false } else if (/^msgid_plural /.test(line)) plural = true
    else if ((m = /^msgstr (".*")$/.exec(line)) && id) catalog[id] = unq(m[1])
    else if ((m = /^msgstr\[(\d)\] (".*")$/.exec(line)) && id && plural) {
      const forms = lang === 'vi' ? ['other'] : lang === 'fr' || lang === 'pt' ? ['one', 'other'] : ['one', 'other']
      catalog[`${id}[${forms[Number(m[1])]}]`] = unq(m[2])
      if (Number(m[1]) === forms.length - 1) catalog[id] = unq(m[2])
    }
  }
  return catalog
}

/**
 * renderPage renders vnode inside the app's providers (i18n, router, services with a
 * recording announce) into #app and returns {root, announced, router}.
 */
export async function renderPage (vnode, { lang = 'en', services = {}, routes } = {}) {
  const { render, h } = await import('preact')
  const { I18nContext, createI18n } = await import('../../src/lib/i18n.js')
  const { RouterContext, createRouter } = await import('../../src/lib/router.js')
  const { ServicesContext } = await import('../../src/lib/services.js')
  const allRoutes = routes || (await import('../../src/routes.js')).routes
  const i18n = createI18n(lang, await catalogFromPo(lang), await catalogFromPo('en'))
  if (globalThis.__router) globalThis.__router.stop()
  const router = createRouter(allRoutes)
  globalThis.__router = router
  const announced = []
  const root = document.getElementById('app')
  render(null, root)
  render(h(I18nContext.Provider, { value: i18n },
    h(RouterContext.Provider, { value: router },
      h(ServicesContext.Provider, { value: { router, announce: (t) => announced.push(t), ...services } }, vnode))), root)
  await settle()
  return { root, announced, router, i18n }
}
