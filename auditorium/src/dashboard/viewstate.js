// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The operator dashboard's view state lives in the address, so that reload, back and
// forward, bookmarks, shared links and a language switch (which keeps the query) all show
// the same view: ?account=&range=&from=&to=&resolution= and one parameter per filter.
// Parameters this module does not know (locale, anything else) are left as they are.

import { DEFAULT_RANGE, RANGES } from './ranges.js'

/** FILTERS are the filter names of the metrics query (src/metrics/README.md "Query"). */
export const FILTERS = ['page', 'landing', 'exit', 'country', 'referrer', 'campaign', 'source']

const VIEW_PARAMS = ['account', 'range', 'from', 'to', 'resolution']

/**
 * readView parses a query string into {account, range, custom: {from, to}, resolution,
 * filters}. Unknown ranges read as the default; custom dates are kept as written (the
 * dashboard decides whether they are valid, and shows them for correction when not).
 */
export function readView (search, filterNames = FILTERS) {
  const p = new URLSearchParams(search)
  const range = RANGES.includes(p.get('range')) ? p.get('range') : DEFAULT_RANGE
  const filters = {}
  for (const name of filterNames) {
    const v = p.get(name)
    if (v !== null && v !== '') filters[name] = v
  }
  return {
    account: p.get('account') || null,
    range,
    custom: range === 'custom' ? { from: p.get('from') || '', to: p.get('to') || '' } : {},
    resolution: p.get('resolution') || null,
    filters
  }
}

/**
 * writeView returns the query string (with '?', or '' when empty) of view on top of search:
 * the view's parameters replaced, the default range and empty values left out.
 */
export function writeView (view, search = '', filterNames = FILTERS) {
  const p = new URLSearchParams(search)
  for (const k of [...VIEW_PARAMS, ...filterNames]) p.delete(k)
  if (view.account) p.set('account', view.account)
  if (view.range && view.range !== DEFAULT_RANGE) p.set('range', view.range)
  if (view.range === 'custom') {
    if (view.custom && view.custom.from) p.set('from', view.custom.from)
    if (view.custom && view.custom.to) p.set('to', view.custom.to)
  }
  if (view.resolution) p.set('resolution', view.resolution)
  for (const name of filterNames) {
    const v = view.filters && view.filters[name]
    if (v !== undefined && v !== null && v !== '') p.set(name, v)
  }
  const s = p.toString()
  return s ? '?' + s : ''
}

const LAST_ACCOUNT = 'offen-last-account'

/** lastAccount is the account this browser showed last (for the landing after login). */
export function lastAccount (storage = globalThis.localStorage) {
  try {
    return storage.getItem(LAST_ACCOUNT)
  } catch {
    return null
  }
}

export function rememberAccount (accountId, storage = globalThis.localStorage) {
  try {
    storage.setItem(LAST_ACCOUNT, accountId)
  } catch {}
}

/** dashboardHref is the dashboard of an account (or of the last used one when null). */
export function dashboardHref (accountId) {
  return '/auditorium/' + (accountId ? '?account=' + encodeURIComponent(accountId) : '')
}
