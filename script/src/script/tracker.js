// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The tracking script embedded by websites (PRODUCT §3, PROTOCOL §1, keys/PROTOCOL.md §12).
// It never throws into the host page: every entry point and callback is guarded, and every
// promise it hands out resolves (to false on failure).

const MAX = 2048
const noFragment = (u) => u.split('#')[0]
const isHttp = (u) => /^https?:\/\//i.test(u)

// DOWNLOADS are the file extensions data-file-downloads counts when it names none.
export const DOWNLOADS = 'pdf,zip,gz,tgz,7z,rar,dmg,exe,msi,pkg,deb,rpm,apk,iso,csv,xls,xlsx,doc,docx,ppt,pptx,odt,ods,txt,rtf,epub,mp3,wav,mp4,mov,avi,mkv,webm'

// pageHref returns the canonical link if the page has one, else location.href, without
// fragment (unless hash routing keeps it) and at most 2048 characters.
export function pageHref (loc, doc, hash) {
  let href = loc.href
  try {
    const link = doc.querySelector('link[rel="canonical"]')
    if (link && isHttp(link.href)) href = link.href
  } catch {}
  return (noFragment(href) + (hash ? loc.hash : '')).slice(0, MAX)
}

// referrer strips query and fragment from cross-origin referrers; non-http referrers
// become "".
export function referrer (ref, loc) {
  try {
    if (!isHttp(ref)) return ''
    const u = new URL(ref)
    return (u.origin === loc.origin ? noFragment(u.href) : u.origin + u.pathname).slice(0, MAX)
  } catch {
    return ''
  }
}

// navigation returns the navigation timing entry or undefined.
const navigation = (perf) => {
  try {
    return perf.getEntriesByType('navigation')[0]
  } catch {}
}

// pageload returns the load time of the document in ms, or null.
export function pageload (perf) {
  try {
    const nav = navigation(perf)
    const ms = Math.round(nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : perf.now())
    return ms >= 0 && ms < 36e5 ? ms : null
  } catch {
    return null
  }
}

// pageEvent builds the event fields the script sets. A page is "not found" when the
// document holds an element with data-offen-not-found, when the caller says so, or when the
// server answered the document with 404 (navigation timing, where the browser reports it).
export function pageEvent (win, initial, hash, notFound) {
  const loc = win.location
  const doc = win.document
  const href = pageHref(loc, doc, hash)
  const event = { type: 'PAGEVIEW', href, referrer: referrer(doc.referrer, loc), pageload: initial ? pageload(win.performance) : null }
  if (loc.href !== href) event.rawHref = loc.href.slice(0, MAX)
  try {
    const nav = initial && navigation(win.performance)
    if (notFound || doc.querySelector('[data-offen-not-found]') || (nav && nav.responseStatus === 404)) event.notFound = true
  } catch {}
  return event
}

// action builds the event of a click: a custom event for an element tagged with
// data-offen-event (its data-offen-prop-* attributes as props), else a download or an
// outbound link when the site opted in; undefined for anything else.
export function action (el, loc, downloads, outbound) {
  const tagged = el.closest('[data-offen-event]')
  if (tagged && tagged.tagName !== 'FORM') return custom(tagged)
  const a = el.closest('a[href]')
  if (!a || !isHttp(a.href)) return
  const u = new URL(a.href)
  const ext = (u.pathname.match(/\.(\w+)$/) || [])[1]
  const type = downloads && ext && downloads.includes(ext.toLowerCase()) ? 'DOWNLOAD' : outbound && u.host !== loc.host && 'OUTBOUND'
  if (type) return { type, target: (u.origin + u.pathname).slice(0, MAX) }
}

// custom reads the custom event an element is tagged with.
export function custom (el) {
  const props = {}
  for (const { name, value } of el.attributes) {
    if (name.startsWith('data-offen-prop-')) props[name.slice(16)] = value
  }
  return { type: 'EVENT', name: el.getAttribute('data-offen-event'), props }
}

// start injects the vault for the script tag and begins tracking. It returns the API
// object ({pageview, event, acquireConsent}, also window.offen) or undefined when the tag
// lacks an account id.
export function start (win, tag) {
  const doc = win.document
  const attr = (name) => tag.getAttribute('data-' + name)
  const accountId = attr('account-id')
  if (!accountId) return
  const origin = new URL(tag.src).origin
  const locale = attr('locale')
  const hash = attr('hash-routing') !== null
  const outbound = attr('outbound-links') !== null
  const files = attr('file-downloads')
  const downloads = files !== null && (files || DOWNLOADS).toLowerCase().split(/[\s,.]+/)
  const iframe = doc.createElement('iframe')
  iframe.src = origin + '/vault/?accountId=' + encodeURIComponent(accountId) + (locale ? '&locale=' + encodeURIComponent(locale) : '')
  iframe.setAttribute('referrerpolicy', 'no-referrer')
  iframe.title = 'Offen'
  iframe.setAttribute('data-testid', 'offen-vault')
  const style = iframe.style
  let focused // element to give focus back to once the banner is gone
  const layout = (visible, height) => {
    if (visible && !focused) focused = doc.activeElement || 1
    if (!visible && focused) {
      if (doc.activeElement === iframe && focused.focus) focused.focus()
      focused = 0
    }
    style.width = visible ? '100%' : '0'
    style.height = visible ? height + 'px' : '0'
    style.visibility = visible ? 'visible' : 'hidden'
  }
  style.position = 'fixed'
  style.left = style.bottom = '0'
  style.border = '0'
  style.maxHeight = '100%'
  style.zIndex = '2147483647'
  layout(false)

  const loaded = new Promise((resolve) => iframe.addEventListener('load', resolve))
  const append = () => doc.body.appendChild(iframe)
  if (doc.body) append()
  else doc.addEventListener('DOMContentLoaded', append)

  // send posts one message on its own channel and resolves to true on DONE.
  const send = (msg) => loaded.then(() => new Promise((resolve) => {
    const channel = new win.MessageChannel()
    msg.v = 1
    msg.accountId = accountId
    iframe.contentWindow.postMessage(msg, origin, [channel.port2])
    channel.port1.onmessage = (e) => {
      const data = e.data || {}
      if (data.type === 'LAYOUT') return layout(!!data.visible, +data.height || 0)
      channel.port1.close()
      resolve(data.type === 'DONE')
    }
  })).catch(() => false)

  // track sends an event; make builds it (and may throw, which is no event)
  const track = (make, opts) => {
    try {
      return send({ type: 'EVENT', event: make(), skipConsent: !!(opts && opts.skipConsent) })
    } catch {
      return Promise.resolve(false)
    }
  }
  const pageview = (opts, initial) => track(() => pageEvent(win, initial, hash, opts && opts.notFound), opts)
  // actions carry the page they happened on, not its referrer or load time
  const act = (fields, opts) => track(() => ({ href: pageHref(win.location, doc, hash), referrer: '', pageload: null, ...fields }), opts)
  const api = {
    pageview: (opts) => pageview(opts),
    event: (name, props, opts) => act({ type: 'EVENT', name, props }, opts),
    acquireConsent: () => send({ type: 'CONSENT' })
  }
  // calls made before the script loaded, by a stub: window.offen = {q: [['event', name, props]]}
  const early = win.offen
  win.offen = api
  try {
    for (const [name, ...args] of early.q) api[name](...args)
  } catch {}

  // The message goes out in the click handler itself, before the browser follows the
  // link, and nothing waits for it: navigation is never delayed.
  const on = (type, fn) => doc.addEventListener(type, (e) => {
    try {
      const fields = fn(e.target)
      if (fields) act(fields)
    } catch {}
  }, true)
  on('click', (el) => action(el, win.location, downloads, outbound))
  on('submit', (el) => el.hasAttribute('data-offen-event') && custom(el))

  if (tag.hasAttribute('data-use-api')) return api

  // automatic tracking: the first page view after load, then every history change
  const first = () => win.setTimeout(() => pageview(0, true), 0)
  if (doc.readyState === 'complete') first()
  else win.addEventListener('load', first)
  // A change of the fragment is a page view only with hash routing; replaceState counts
  // only when the path changes (not the query alone).
  const route = (path) => {
    const loc = win.location
    return (path ? loc.pathname : noFragment(loc.href)) + (hash ? loc.hash : '')
  }
  let last = route()
  let lastPath = route(1)
  const changed = (replace) => {
    try {
      if (route() !== last && !(replace && route(1) === lastPath)) {
        // the address now; the not-found marker in the next task, as a single-page app
        // renders the new page right after changing the URL
        const event = pageEvent(win, 0, hash)
        win.setTimeout(() => track(() => {
          if (doc.querySelector('[data-offen-not-found]')) event.notFound = true
          return event
        }), 0)
      }
      last = route()
      lastPath = route(1)
    } catch {}
  }
  const history = win.history
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name]
    history[name] = function () {
      const result = original.apply(this, arguments)
      changed(name === 'replaceState')
      return result
    }
  }
  win.addEventListener('popstate', () => changed())
  if (hash) win.addEventListener('hashchange', () => changed())
  return api
}
