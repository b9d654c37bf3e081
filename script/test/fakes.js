// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Small stand-ins for the browser parts node lacks (DOM elements, document.cookie).
// IndexedDB comes from fake-indexeddb, WebCrypto and MessageChannel are node's own.

export class FakeElement {
  constructor (tag, doc) {
    this.tagName = tag.toUpperCase()
    this.ownerDocument = doc
    this.attributes = {}
    this.children = []
    this.listeners = {}
    this.style = {}
    this.textContent = ''
  }

  setAttribute (k, v) { this.attributes[k] = String(v) }
  getAttribute (k) { return k in this.attributes ? this.attributes[k] : null }
  hasAttribute (k) { return k in this.attributes }
  get id () { return this.attributes.id }
  set id (v) { this.attributes.id = v }
  append (...nodes) { for (const n of nodes) this.children.push(n) }
  appendChild (n) { this.children.push(n); return n }
  replaceChildren (...nodes) { this.children = nodes }
  addEventListener (type, fn) { (this.listeners[type] ||= []).push(fn) }
  dispatch (type, event = {}) { for (const fn of this.listeners[type] || []) fn(event) }
  click () { this.dispatch('click') }
  focus () { this.ownerDocument.activeElement = this }
  getBoundingClientRect () { return { height: this.children.length ? 120 : 0 } }
  * walk () {
    yield this
    for (const c of this.children) if (c instanceof FakeElement) yield * c.walk()
  }

  find (pred) {
    for (const e of this.walk()) if (pred(e)) return e
    return null
  }

  byId (id) { return this.find((e) => e.attributes.id === id) }
  text () {
    let s = this.textContent
    for (const c of this.children) s += c instanceof FakeElement ? c.text() : ''
    return s
  }
}

// FakeDocument keeps cookies like a browser would for one origin (attributes ignored
// except Max-Age=0); blockCookies simulates a browser refusing them in this frame.
export class FakeDocument {
  constructor ({ blockCookies = false } = {}) {
    this.jar = new Map()
    this.blockCookies = blockCookies
    this.cookieWrites = []
    this.body = new FakeElement('body', this)
    this.activeElement = null
    this.listeners = {}
  }

  addEventListener (type, fn) { (this.listeners[type] ||= []).push(fn) }
  dispatch (type, event = {}) { for (const fn of this.listeners[type] || []) fn(event) }

  get cookie () { return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') }
  set cookie (s) {
    this.cookieWrites.push(s)
    if (this.blockCookies) return
    const [pair, ...attrs] = s.split(';')
    const i = pair.indexOf('=')
    const name = pair.slice(0, i).trim()
    if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.jar.delete(name)
    else this.jar.set(name, pair.slice(i + 1).trim())
  }

  createElement (tag) { return new FakeElement(tag, this) }
}

// A MessageEvent-like object carrying a real MessagePort; replies are collected.
export function messageEvent ({ data, origin = 'https://www.example.org', source }) {
  const channel = new MessageChannel()
  const replies = []
  let done
  const finished = new Promise((resolve) => { done = resolve })
  channel.port1.onmessage = (e) => {
    replies.push(e.data)
    if (e.data.type !== 'LAYOUT') { channel.port1.close(); done(e.data) }
  }
  return { event: { data, origin, source, ports: [channel.port2] }, replies, finished }
}

// waitFor polls cond (sync or async) until it is truthy, failing after ~2 s.
export async function waitFor (cond, what = 'condition') {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('timed out waiting for ' + what)
}
