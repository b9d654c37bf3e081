// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Translations for the auditorium. The strings live only in locales/<domain>/<lang>.po; the
// server serves the merged catalog of a language at GET /locales/{lang}.json (plural entries
// as key[one], key[other], ... plus the bare key). This module picks the language, loads the
// catalog (and English as the fallback for missing keys) and formats messages. JavaScript
// keeps no copy of any string.

import { createContext } from 'preact'
import { useContext } from 'preact/hooks'

/** LANGUAGES are the languages the server has catalogs for; the first is the fallback. */
export const LANGUAGES = ['en', 'de', 'fr', 'es', 'pt', 'vi']
export const FALLBACK = 'en'

function supported (tag) {
  if (typeof tag !== 'string' || tag === '') return null
  const base = tag.toLowerCase().split(/[-_]/)[0]
  return LANGUAGES.includes(base) ? base : null
}

/**
 * chooseLanguage picks the language: `?locale=` in the address, else the instance default
 * that the server-rendered shell names in `<meta name="offen-locale" content="de">`, else
 * the first supported browser language, else English.
 */
export function chooseLanguage ({ search = '', doc = globalThis.document, nav = globalThis.navigator } = {}) {
  const param = supported(new URLSearchParams(search).get('locale'))
  if (param) return param
  const meta = doc && doc.querySelector && doc.querySelector('meta[name="offen-locale"]')
  const instance = supported(meta && meta.getAttribute('content'))
  if (instance) return instance
  for (const l of (nav && (nav.languages || [nav.language])) || []) {
    const s = supported(l)
    if (s) return s
  }
  return FALLBACK
}

/** fetchCatalog loads /locales/{lang}.json; it resolves with {} when that fails. */
export async function fetchCatalog (lang, fetchFn = globalThis.fetch) {
  try {
    const res = await fetchFn(`/locales/${encodeURIComponent(lang)}.json`, { credentials: 'same-origin' })
    if (!res.ok) return {}
    const body = await res.json()
    return body && typeof body === 'object' ? body : {}
  } catch {
    return {}
  }
}

function fill (text, args) {
  if (!args) return text
  return text.replace(/\{([A-Za-z0-9_]+)\}/g, (m, name) => (Object.hasOwn(args, name) ? String(args[name]) : m))
}

/**
 * createI18n returns the translation helpers for one language:
 *   t(key, args)            the message with {placeholders} filled; a missing key falls back
 *                           to English, then to the key itself (visible, so tests catch it)
 *   tn(key, count, args)    plural: key[<Intl.PluralRules category>], else key[other], else key;
 *                           {count} is the localised number
 *   number(n, options), percent(ratio), date(ms|Date, options), duration(ms), country(code)
 *   lang, dir
 */
export function createI18n (lang, catalog = {}, fallback = {}) {
  const rules = new Intl.PluralRules(lang)
  const numbers = new Map()
  const numberFormat = (options) => {
    const k = JSON.stringify(options || {})
    if (!numbers.has(k)) numbers.set(k, new Intl.NumberFormat(lang, options))
    return numbers.get(k)
  }
  let regions = null
  const lookup = (key) => catalog[key] ?? fallback[key]
  const i18n = {
    lang,
    t (key, args) {
      const text = lookup(key)
      return text === undefined ? key : fill(text, args)
    },
    tn (key, count, args = {}) {
      const text = lookup(`${key}[${rules.select(count)}]`) ?? lookup(`${key}[other]`) ?? lookup(key)
      return text === undefined ? key : fill(text, { ...args, count: i18n.number(count) })
    },
    has: (key) => lookup(key) !== undefined,
    number: (n, options) => (typeof n === 'number' && Number.isFinite(n) ? numberFormat(options).format(n) : '–'),
    percent: (ratio) => i18n.number(ratio, { style: 'percent', maximumFractionDigits: 1 }),
    date (value, options = { dateStyle: 'medium' }) {
      const d = value instanceof Date ? value : new Date(value)
      return Number.isNaN(d.getTime()) ? '–' : new Intl.DateTimeFormat(lang, options).format(d)
    },
    duration (ms) {
      if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–'
      const s = Math.round(ms / 1000)
      if (s < 60) return numberFormat({ style: 'unit', unit: 'second', unitDisplay: 'narrow' }).format(s)
      const m = Math.floor(s / 60)
      if (m < 60) {
        return numberFormat({ style: 'unit', unit: 'minute', unitDisplay: 'narrow' }).format(m) + ' ' +
          numberFormat({ style: 'unit', unit: 'second', unitDisplay: 'narrow' }).format(s % 60)
      }
      return numberFormat({ style: 'unit', unit: 'hour', unitDisplay: 'narrow' }).format(Math.floor(m / 60)) + ' ' +
        numberFormat({ style: 'unit', unit: 'minute', unitDisplay: 'narrow' }).format(m % 60)
    },
    country (code) {
      try {
        regions = regions || new Intl.DisplayNames([lang], { type: 'region' })
        return regions.of(code) || code
      } catch {
        return code
      }
    }
  }
  return i18n
}

/** loadI18n chooses nothing: it loads lang's catalog (and English for fallback). */
export async function loadI18n (lang, fetchFn) {
  const [catalog, fallback] = await Promise.all([
    fetchCatalog(lang, fetchFn),
    lang === FALLBACK ? Promise.resolve({}) : fetchCatalog(FALLBACK, fetchFn)
  ])
  return createI18n(lang, catalog, fallback)
}

export const I18nContext = createContext(createI18n(FALLBACK))

/** useI18n returns the helpers of the current language (see createI18n). */
export function useI18n () {
  return useContext(I18nContext)
}
