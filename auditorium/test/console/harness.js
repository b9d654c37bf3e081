// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Rendering the auth and console pages in happy-dom with the in-memory API, the real
// crypto module, the keystore on fake-indexeddb and the English catalog read from the .po
// files (as GET /locales/en.json serves it).

import { readFile } from 'node:fs/promises'
import { Window } from 'happy-dom'
import { IDBFactory } from 'fake-indexeddb'

const GLOBALS = ['window', 'document', 'navigator', 'location', 'history', 'Node', 'Element', 'HTMLElement',
  'HTMLInputElement', 'HTMLFormElement', 'Event', 'MouseEvent', 'KeyboardEvent', 'CustomEvent', 'SVGElement',
  'getComputedStyle', 'requestAnimationFrame', 'cancelAnimationFrame', 'CSSStyleSheet', 'ShadowRoot']

export function installDom (url = 'http://offen.test/') {
  const win = new Window({ url, settings: { navigation: { disableMainFrameNavigation: true } } })
  for (const name of GLOBALS) {
    if (name in win) Object.defineProperty(globalThis, name, { value: name === 'window' ? win : win[name], configurable: true, writable: true })
  }
  win.document.body.innerHTML = '<main id="app"></main>'
  return win
}

export async function settle (rounds = 5) {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

export async function waitFor (fn, timeout = 20000) {
  const start = Date.now()
  for (;;) {
    let v
    try {
      v = fn()
    } catch {}
    if (v) return v
    if (Date.now() - start > timeout) throw new Error('waitFor: condition not met')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Reads locales/<domain>/<lang>.po into {key: text} (singular entries only). */
export async function readPo (domain, lang = 'en') {
  const text = await readFile(new URL(`../../../locales/${domain}/${lang}.po`, import.meta.url), 'utf8')
  const out = {}
  let id = null
  for (const line of text.split('\n')) {
    let m
    if ((m = /^msgid (".*")$/.exec(line))) id = JSON.parse(m[1])
    else if ((m = /^msgstr (".*")$/.exec(line)) && id) out[id] = JSON.parse(m[1])
  }
  return out
}

/** A `t` over a catalog that renders unknown keys as themselves (so tests can see them). */
export function makeT (catalog) {
  return (key, args) => {
    const text = catalog[key]
    if (text === undefined) return key
    return args ? text.replace(/\{([A-Za-z0-9_]+)\}/g, (m, n) => (Object.hasOwn(args, n) ? String(args[n]) : m)) : text
  }
}

export async function englishCatalog () {
  return { ...(await readPo('vault')), ...(await readPo('auditorium')) }
}

/** Sets an input's value, fires `input` and `change` (only `change` for checkboxes and radios) and lets Preact render. */
export async function type (el, value) {
  if (el.type === 'checkbox' || el.type === 'radio') {
    el.checked = value
    el.dispatchEvent(new window.Event('change', { bubbles: true }))
  } else {
    el.value = value
    el.dispatchEvent(new window.Event('input', { bubbles: true }))
    el.dispatchEvent(new window.Event('change', { bubbles: true }))
  }
  await settle()
}

/** Submits a form the way a browser does (a cancelable submit event), then lets it render. */
export async function submit (form) {
  form.dispatchEvent(new window.Event('submit', { bubbles: true, cancelable: true }))
  await settle()
}

export { IDBFactory }
