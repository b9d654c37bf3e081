// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The tracking script embedded by websites (PRODUCT §3, PROTOCOL §1). It never throws
// into the host page: every entry point and callback is guarded, and every promise it
// hands out resolves (to false on failure).

const MAX = 2048
const noFragment = (u) => u.split('#')[0]
const isHttp = (u) => /^https?:\/\//i.test(u)

// pageHref returns the canonical link if the page has one, else location.href, without
// fragment and at most 2048 characters.
export function pageHref (loc, doc) {
  let href = loc.href
  try {
    const link = doc.querySelector('link[rel="canonical"]')
    if (link && isHttp(link.href)) href = link.href
  } catch {}
  return noFragment(href).slice(0, MAX)
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

// pageload returns the load time of the document in ms, or null.
export function pageload (perf) {
  try {
    const nav = perf.getEntriesByType('navigation')[0]
    const ms = Math.round(nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : perf.now())
    return ms >= 0 && ms < 36e5 ? ms : null
  } catch {
    return null
  }
}

// pageEvent builds the event fields the script sets.
export function pageEvent (win, initial) {
  const loc = win.location
  const doc = win.document
  const href = pageHref(loc, doc)
  const event = { type: 'PAGEVIEW', href, referrer: referrer(doc.referrer, loc), pageload: initial ? pageload(win.performance) : null }
  if (loc.href !== href) event.rawHref = loc.href.slice(0, MAX)
  return event
}

// start injects the vault for the script tag and begins tracking. It returns the API
// object ({pageview, acquireConsent}) or undefined when the tag lacks an account id.
export function start (win, tag) {
  const doc = win.document
  const accountId = tag.getAttribute('data-account-id')
  if (!accountId) return
  const origin = new URL(tag.src).origin
  const locale = tag.getAttribute('data-locale')
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

  const pageview = (opts, initial) => {
    try {
      return send({ type: 'EVENT', event: pageEvent(win, initial), skipConsent: !!(opts && opts.skipConsent) })
    } catch {
      return Promise.resolve(false)
    }
  }
  const api = { pageview: (opts) => pageview(opts), acquireConsent: () => send({ type: 'CONSENT' }) }

  if (tag.hasAttribute('data-use-api')) {
    win.offen = api
    return api
  }

  // automatic tracking: the first page view after load, then every history change
  const first = () => win.setTimeout(() => pageview(0, true), 0)
  if (doc.readyState === 'complete') first()
  else win.addEventListener('load', first)
  // A jump to an anchor is no page view; hash routes (#/… or #!…) are.
  const route = () => {
    const href = win.location.href
    return /#[/!]/.test(href) ? href : noFragment(href)
  }
  let last = route()
  const changed = () => {
    try {
      if (route() !== last) {
        last = route()
        pageview()
      }
    } catch {}
  }
  const history = win.history
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name]
    history[name] = function () {
      const result = original.apply(this, arguments)
      changed()
      return result
    }
  }
  win.addEventListener('popstate', changed)
  return api
}
