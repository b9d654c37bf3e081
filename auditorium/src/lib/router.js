// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// A small client-side router over the History API. Routes are matched by path prefix, so
// /auditorium/anything belongs to /auditorium/; query and fragment (tokens of /join/ and
// /reset-password/) are left to the page. Same-origin links to a known route are handled
// without a reload; everything else is a normal navigation.

import { createContext } from 'preact'
import { useContext, useEffect, useState } from 'preact/hooks'

/**
 * matchRoute returns the route whose `path` is the longest prefix of pathname (paths end
 * with a slash; '/' matches only itself), or null.
 */
export function matchRoute (routes, pathname) {
  let best = null
  for (const r of routes) {
    const hit = r.path === '/' ? pathname === '/' : pathname === r.path || pathname === r.path.slice(0, -1) || pathname.startsWith(r.path)
    if (hit && (!best || r.path.length > best.path.length)) best = r
  }
  return best
}

/**
 * createRouter binds a route table to a window: {current(), navigate(href, {replace}),
 * subscribe(fn), handles(url), stop()}. A click on an <a> to a handled same-origin URL
 * (without modifier keys, target or download) navigates in place.
 */
export function createRouter (routes, win = globalThis.window) {
  const listeners = new Set()
  const current = () => ({ route: matchRoute(routes, win.location.pathname), location: win.location })
  const notify = () => { for (const fn of listeners) fn(current()) }
  const handles = (url) => url.origin === win.location.origin && matchRoute(routes, url.pathname) !== null
  const navigate = (href, { replace = false } = {}) => {
    const url = new URL(href, win.location.href)
    if (!handles(url)) {
      win.location.assign(url.href)
      return
    }
    // Keep an explicit ?locale= across in-app navigation.
    const locale = new URLSearchParams(win.location.search).get('locale')
    if (locale && !url.searchParams.has('locale')) url.searchParams.set('locale', locale)
    win.history[replace ? 'replaceState' : 'pushState'](null, '', url.pathname + url.search + url.hash)
    notify()
  }
  const onClick = (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const a = event.target && event.target.closest && event.target.closest('a[href]')
    if (!a || a.target || a.hasAttribute('download') || a.hasAttribute('data-reload')) return
    const url = new URL(a.getAttribute('href'), win.location.href)
    if (!handles(url) || (url.pathname === win.location.pathname && url.search === win.location.search && url.hash)) return
    event.preventDefault()
    navigate(url.href)
  }
  win.addEventListener('popstate', notify)
  win.document.addEventListener('click', onClick)
  return {
    routes,
    current,
    navigate,
    handles,
    subscribe (fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    stop () {
      win.removeEventListener('popstate', notify)
      win.document.removeEventListener('click', onClick)
    }
  }
}

export const RouterContext = createContext(null)

/** useRouter returns the router of the app. */
export function useRouter () {
  return useContext(RouterContext)
}

/** useRoute re-renders on navigation and returns {route, location}. */
export function useRoute () {
  const router = useRouter()
  const [state, setState] = useState(() => router.current())
  useEffect(() => router.subscribe(setState), [router])
  return state
}
