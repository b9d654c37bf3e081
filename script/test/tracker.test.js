// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { action, custom, pageEvent, pageHref, pageload, referrer, start } from '../src/script/tracker.js'
import { FakeDocument, waitFor } from './fakes.js'

const loc = (href) => {
  const u = new URL(href)
  return { href: u.href, origin: u.origin, host: u.host, pathname: u.pathname, hash: u.hash }
}
const docWith = (canonical) => ({ querySelector: (sel) => (sel === 'link[rel="canonical"]' && canonical ? { href: canonical } : null) })

test('referrer: query and fragment removed when cross-origin', () => {
  const here = loc('https://www.example.org/page')
  assert.equal(referrer('', here), '')
  assert.equal(referrer('https://search.test/q?secret=1#frag', here), 'https://search.test/q')
  assert.equal(referrer('https://www.example.org/prev?x=1#y', here), 'https://www.example.org/prev?x=1')
  assert.equal(referrer('android-app://com.example/', here), '')
  assert.equal(referrer('https://search.test/' + 'a'.repeat(3000), here).length, 2048)
})

test('pageHref: canonical link, fragment removed, at most 2048 characters', () => {
  assert.equal(pageHref(loc('https://www.example.org/a?b=1#top'), docWith(null)), 'https://www.example.org/a?b=1')
  assert.equal(pageHref(loc('https://www.example.org/a?utm=1'), docWith('https://www.example.org/a#c')), 'https://www.example.org/a')
  assert.equal(pageHref(loc('https://www.example.org/a'), docWith('javascript:void(0)')), 'https://www.example.org/a')
  assert.equal(pageHref(loc('https://www.example.org/' + 'x'.repeat(3000)), docWith(null)).length, 2048)
})

test('pageEvent: rawHref only when it differs', () => {
  const win = (href, canonical) => ({ location: loc(href), document: { ...docWith(canonical), referrer: '' } })
  assert.deepEqual(pageEvent(win('https://www.example.org/a'), false), { type: 'PAGEVIEW', href: 'https://www.example.org/a', referrer: '', pageload: null })
  assert.equal(pageEvent(win('https://www.example.org/a?ref=x', 'https://www.example.org/a'), false).rawHref, 'https://www.example.org/a?ref=x')
})

test('pageload', () => {
  assert.equal(pageload({ getEntriesByType: () => [{ loadEventEnd: 812.4 }], now: () => 1000 }), 812)
  assert.equal(pageload({ getEntriesByType: () => [], now: () => 950.6 }), 951)
  assert.equal(pageload(undefined), null)
})

// fakeWindow is a host page with a script tag; messages the script posts to the vault are
// recorded and answered through their port by `answer`.
function fakeWindow ({ href = 'https://www.example.org/start', attrs = {}, readyState = 'complete', answer = () => [{ type: 'DONE' }] } = {}) {
  const doc = new FakeDocument()
  doc.readyState = readyState
  doc.referrer = 'https://search.test/?q=secret'
  doc.querySelector = () => null
  const listeners = {}
  const posted = []
  const win = {
    document: doc,
    location: loc(href),
    performance: { getEntriesByType: () => [{ loadEventEnd: 300 }], now: () => 400 },
    MessageChannel,
    setTimeout,
    addEventListener: (type, fn) => { (listeners[type] ||= []).push(fn) },
    fire: (type) => { for (const fn of listeners[type] || []) fn({}) },
    history: {
      pushState (state, title, url) { win.location = loc(new URL(url, win.location.href).href) },
      replaceState (state, title, url) { win.location = loc(new URL(url, win.location.href).href) }
    },
    posted
  }
  const tag = doc.createElement('script')
  tag.src = 'https://offen.example.org/script.js'
  tag.setAttribute('data-account-id', 'acc-1')
  for (const [k, v] of Object.entries(attrs)) tag.setAttribute(k, v)
  const api = start(win, tag)
  const iframe = doc.body.children[0]
  if (iframe) {
    iframe.contentWindow = {
      postMessage (msg, targetOrigin, [port]) {
        posted.push({ msg, targetOrigin, port })
        for (const reply of answer(msg)) port.postMessage(reply)
      }
    }
  }
  return { win, doc, iframe, api, posted }
}

test('injects one hidden vault iframe with the right URL and attributes', () => {
  const { iframe, doc } = fakeWindow({ attrs: { 'data-locale': 'de' } })
  assert.equal(doc.body.children.length, 1)
  assert.equal(iframe.tagName, 'IFRAME')
  assert.equal(iframe.src, 'https://offen.example.org/vault/?accountId=acc-1&locale=de')
  assert.equal(iframe.getAttribute('referrerpolicy'), 'no-referrer')
  assert.ok(iframe.title)
  assert.equal(iframe.style.width, '0')
  assert.equal(iframe.style.height, '0')
  assert.equal(iframe.style.visibility, 'hidden')
  assert.deepEqual(Object.keys(iframe.attributes).sort(), ['data-testid', 'referrerpolicy'], 'no style attribute (CSP)')
})

test('no account id: nothing happens', () => {
  const doc = new FakeDocument()
  const tag = doc.createElement('script')
  tag.src = 'https://offen.example.org/script.js'
  assert.equal(start({ document: doc, location: loc('https://www.example.org/') }, tag), undefined)
  assert.equal(doc.body.children.length, 0)
})

test('page view after load, then one per history change with pageload null', async () => {
  const { win, iframe, posted } = fakeWindow()
  iframe.dispatch('load')
  await waitFor(() => posted.length === 1, 'first page view')
  const first = posted[0]
  assert.equal(first.targetOrigin, 'https://offen.example.org')
  assert.deepEqual(first.msg, {
    type: 'EVENT',
    v: 1,
    accountId: 'acc-1',
    skipConsent: false,
    event: { type: 'PAGEVIEW', href: 'https://www.example.org/start', referrer: 'https://search.test/', pageload: 300 }
  })
  win.history.pushState({}, '', '/next')
  win.history.replaceState({}, '', '/next') // same URL: no page view
  win.history.replaceState({}, '', '/next?tab=2') // query only: no page view
  win.history.pushState({}, '', '/next?tab=3') // a push with a new query is one
  win.history.replaceState({}, '', '/other')
  win.location = loc('https://www.example.org/other#section') // anchor jump: no page view
  win.fire('popstate')
  win.location = loc('https://www.example.org/back')
  win.fire('popstate')
  win.location = loc('https://www.example.org/back#/route') // hash route without data-hash-routing: none
  win.fire('popstate')
  win.fire('hashchange')
  await waitFor(() => posted.length === 5, 'SPA page views')
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.deepEqual(posted.slice(1).map((p) => [p.msg.event.href, p.msg.event.pageload, p.msg.event.rawHref]), [
    ['https://www.example.org/next', null, undefined], ['https://www.example.org/next?tab=3', null, undefined],
    ['https://www.example.org/other', null, undefined], ['https://www.example.org/back', null, undefined]
  ])
})

test('data-hash-routing: every route change is a page view with its fragment', async () => {
  const { win, iframe, posted } = fakeWindow({ href: 'https://www.example.org/app#/inbox', attrs: { 'data-hash-routing': '' } })
  iframe.dispatch('load')
  await waitFor(() => posted.length === 1, 'first page view')
  assert.equal(posted[0].msg.event.href, 'https://www.example.org/app#/inbox')
  win.location = loc('https://www.example.org/app#/settings')
  win.fire('popstate')
  win.fire('hashchange') // both fire for one change: one page view
  win.history.replaceState({}, '', '#/settings/profile') // the path (with its fragment) changes
  await waitFor(() => posted.length === 3, 'hash routes')
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.deepEqual(posted.slice(1).map((p) => p.msg.event.href), ['https://www.example.org/app#/settings', 'https://www.example.org/app#/settings/profile'])
})

test('not found: marker element, option, or the 404 status of the document', () => {
  const win = (marker, status) => ({
    location: loc('https://www.example.org/missing'),
    performance: { getEntriesByType: () => [{ loadEventEnd: 5, responseStatus: status }], now: () => 5 },
    document: { referrer: '', querySelector: (sel) => (marker && sel === '[data-offen-not-found]' ? {} : null) }
  })
  assert.equal(pageEvent(win(false, 200), true).notFound, undefined)
  assert.equal(pageEvent(win(true, 200), true).notFound, true)
  assert.equal(pageEvent(win(false, 404), true).notFound, true)
  assert.equal(pageEvent(win(false, 404), false).notFound, undefined, 'the status belongs to the first page only')
  assert.equal(pageEvent(win(false, 200), false, false, true).notFound, true)
})

// el is a minimal element: closest() walks up through parents by a tiny selector subset
function el (tag, attrs = {}, parent = null) {
  const e = {
    tagName: tag.toUpperCase(),
    parent,
    attributes: Object.entries(attrs).map(([name, value]) => ({ name, value })),
    getAttribute: (n) => (n in attrs ? attrs[n] : null),
    hasAttribute: (n) => n in attrs,
    get href () { return attrs.href === undefined ? undefined : new URL(attrs.href, 'https://www.example.org/page').href },
    closest (sel) {
      for (let x = e; x; x = x.parent) {
        if (sel === '[data-offen-event]' && x.hasAttribute('data-offen-event')) return x
        if (sel === 'a[href]' && x.tagName === 'A' && x.hasAttribute('href')) return x
      }
      return null
    }
  }
  return e
}

test('action: tagged elements, downloads, outbound links', () => {
  const here = loc('https://www.example.org/page')
  const dl = ['pdf', 'zip']
  const button = el('button', { 'data-offen-event': 'Signup', 'data-offen-prop-plan': 'pro', 'data-offen-prop-seats': '3', class: 'x' })
  assert.deepEqual(action(el('span', {}, button), here, dl, true), { type: 'EVENT', name: 'Signup', props: { plan: 'pro', seats: '3' } })
  assert.deepEqual(action(el('a', { href: 'https://other.test/a?b=1#c' }), here, dl, true), { type: 'OUTBOUND', target: 'https://other.test/a' })
  assert.equal(action(el('a', { href: 'https://other.test/a' }), here, dl, false), undefined, 'outbound links are opt-in')
  assert.equal(action(el('a', { href: '/about' }), here, dl, true), undefined, 'same host')
  assert.deepEqual(action(el('a', { href: '/files/Report.PDF?x=1' }), here, dl, true), { type: 'DOWNLOAD', target: 'https://www.example.org/files/Report.PDF' })
  assert.deepEqual(action(el('a', { href: 'https://cdn.test/x.zip' }), here, dl, true), { type: 'DOWNLOAD', target: 'https://cdn.test/x.zip' }, 'a download, not outbound')
  assert.deepEqual(action(el('a', { href: 'https://cdn.test/x.zip' }), here, false, true), { type: 'OUTBOUND', target: 'https://cdn.test/x.zip' })
  assert.equal(action(el('a', { href: 'mailto:a@b.test' }), here, dl, true), undefined)
  const form = el('form', { 'data-offen-event': 'Contact' })
  assert.equal(action(el('button', {}, form), here, dl, true), undefined, 'a form counts on submit, not on clicks in it')
  assert.deepEqual(custom(form), { type: 'EVENT', name: 'Contact', props: {} })
})

test('offen.event, clicks and submits send events without waiting', async () => {
  const { win, doc, iframe, posted } = fakeWindow({ attrs: { 'data-use-api': '', 'data-outbound-links': '', 'data-file-downloads': 'pdf' } })
  iframe.dispatch('load')
  assert.equal(await win.offen.event('Play', { video: 'intro', seconds: 12 }), true)
  assert.deepEqual(posted[0].msg.event, { href: 'https://www.example.org/start', referrer: '', pageload: null, type: 'EVENT', name: 'Play', props: { video: 'intro', seconds: 12 } })
  const click = { target: el('a', { href: 'https://www.example.org/a.pdf' }) }
  for (const fn of doc.listeners.click) assert.equal(fn(click), undefined) // nothing to wait for
  doc.dispatch('submit', { target: el('form', { 'data-offen-event': 'Contact', 'data-offen-prop-topic': 'sales' }) })
  doc.dispatch('submit', { target: el('form', {}) })
  doc.dispatch('click', { target: { closest () { throw new Error('host page oddity') } } })
  await waitFor(() => posted.length === 3, 'click and submit')
  assert.deepEqual(posted.slice(1).map((p) => p.msg.event.type + ' ' + (p.msg.event.target || p.msg.event.name)), ['DOWNLOAD https://www.example.org/a.pdf', 'EVENT Contact'])
})

test('calls queued by a stub before the script loaded are sent', async () => {
  const doc = new FakeDocument()
  const posted = []
  const win = { document: doc, location: loc('https://www.example.org/'), MessageChannel, setTimeout, addEventListener () {}, history: {}, offen: { q: [['event', 'Early', { a: 1 }]] } }
  const tag = doc.createElement('script')
  tag.src = 'https://offen.example.org/script.js'
  tag.setAttribute('data-account-id', 'acc-1')
  tag.setAttribute('data-use-api', '')
  start(win, tag)
  const iframe = doc.body.children[0]
  iframe.contentWindow = { postMessage (msg, o, [port]) { posted.push(msg); port.postMessage({ type: 'DONE' }) } }
  iframe.dispatch('load')
  await waitFor(() => posted.length === 1, 'queued event')
  assert.equal(posted[0].event.name, 'Early')
})

test('waits for the load event when the page is still loading', async () => {
  const { win, iframe, posted } = fakeWindow({ readyState: 'loading' })
  iframe.dispatch('load')
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(posted.length, 0)
  win.fire('load')
  await waitFor(() => posted.length === 1, 'page view')
})

test('LAYOUT shows and hides the iframe', async () => {
  const { iframe, api, posted } = fakeWindow({ attrs: { 'data-use-api': '' }, answer: () => [{ type: 'LAYOUT', visible: true, height: 140 }] })
  const doc = iframe.ownerDocument
  const button = doc.createElement('button')
  button.focus()
  iframe.dispatch('load')
  const done = api.acquireConsent()
  await waitFor(() => iframe.style.visibility === 'visible', 'shown')
  assert.equal(iframe.style.height, '140px')
  assert.equal(iframe.style.width, '100%')
  doc.activeElement = iframe // the visitor tabbed into the banner
  posted[0].port.postMessage({ type: 'LAYOUT', visible: false, height: 0 })
  posted[0].port.postMessage({ type: 'DONE' })
  assert.equal(await done, true)
  assert.equal(iframe.style.visibility, 'hidden')
  assert.equal(iframe.style.height, '0')
  assert.equal(doc.activeElement, button, 'focus given back to the page')
})

test('data-use-api: no automatic tracking; window.offen API', async () => {
  const { win, iframe, posted, api } = fakeWindow({ attrs: { 'data-use-api': '' } })
  assert.equal(win.offen, api)
  iframe.dispatch('load')
  win.history.pushState({}, '', '/spa')
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(posted.length, 0)
  assert.equal(await win.offen.pageview({ skipConsent: true }), true)
  assert.equal(posted[0].msg.skipConsent, true)
  assert.equal(posted[0].msg.event.href, 'https://www.example.org/spa')
  assert.equal(await win.offen.acquireConsent(), true)
  assert.deepEqual(posted[1].msg, { type: 'CONSENT', v: 1, accountId: 'acc-1' })
})

test('API promises resolve false on ERROR and on failures', async () => {
  const { iframe, api } = fakeWindow({ attrs: { 'data-use-api': '' }, answer: () => [{ type: 'ERROR', error: 'origin not allowed' }] })
  iframe.dispatch('load')
  assert.equal(await api.pageview(), false)
  iframe.contentWindow = null // vault gone: postMessage throws inside
  assert.equal(await api.acquireConsent(), false)
})
