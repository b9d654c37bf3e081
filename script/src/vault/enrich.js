// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import zones from './geozones.js'

// Plaintexts larger than this many bytes (UTF-8 JSON) are dropped (PROTOCOL §1).
export const MAX_PLAINTEXT = 4096

// geo maps an IANA time zone name to an ISO 3166-1 alpha-2 country code, or null.
let table
export function geo (timeZone) {
  if (!table) {
    table = new Map()
    for (const region in zones) {
      for (const entry of zones[region].split(',')) {
        const [city, cc] = entry.split(' ')
        table.set(region + '/' + city, cc)
      }
    }
  }
  return table.get(timeZone) || null
}

// browserTimeZone returns the browser's time zone name or undefined.
export function browserTimeZone () {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone
  } catch {}
}

// isMobile guesses whether the device is a phone or tablet.
export function isMobile (nav) {
  if (!nav) return false
  if (nav.userAgentData && typeof nav.userAgentData.mobile === 'boolean') return nav.userAgentData.mobile
  return /Mobi|Android|iPhone|iPad/i.test(nav.userAgent || '')
}

// The families of keys/PROTOCOL.md §12, first match wins: Edge, Opera and Samsung Internet
// also name Chrome (and Safari) in their user agent strings.
const BROWSERS = [['Samsung Internet', /SamsungBrowser/], ['Edge', /Edg(e|A|iOS)?\//], ['Opera', /OPR\/|Opera/],
  ['Firefox', /Firefox|FxiOS/], ['Chrome', /Chrome|CriOS|Chromium/], ['Safari', /Safari/]]
const BRANDS = [['Samsung Internet', 'Samsung Internet'], ['Edge', 'Microsoft Edge'], ['Opera', 'Opera'],
  ['Chrome', 'Google Chrome'], ['Chrome', 'Chromium']]
const SYSTEMS = [['Windows', /Windows/], ['iPadOS', /iPad/], ['iOS', /iPhone|iPod/], ['Android', /Android/],
  ['ChromeOS', /CrOS/], ['macOS', /Macintosh|Mac OS X/], ['Linux', /Linux/]]
const PLATFORMS = { Windows: 'Windows', macOS: 'macOS', Android: 'Android', 'Chrome OS': 'ChromeOS', ChromeOS: 'ChromeOS', Linux: 'Linux', iOS: 'iOS' }

const first = (list, test) => (list.find(([, x]) => test(x)) || ['Other'])[0]

// deviceInfo derives the device fields of keys/PROTOCOL.md §12 from the User-Agent client
// hints where the browser has them (brands, platform, mobile: the low-entropy ones, no
// request needed), else from the user agent string reduced to a family. Nothing of the
// string itself, and no version, leaves this function.
export function deviceInfo (nav, scr) {
  const ua = (nav && nav.userAgent) || ''
  const hints = nav && nav.userAgentData
  const brands = hints && Array.isArray(hints.brands) ? hints.brands.map((b) => b && b.brand) : []
  let browser = brands.length ? first(BRANDS, (b) => brands.includes(b)) : 'Other'
  if (browser === 'Other') browser = first(BROWSERS, (re) => re.test(ua))
  let os = hints && PLATFORMS[hints.platform]
  if (!os) os = first(SYSTEMS, (re) => re.test(ua))
  // iPadOS asks for desktop sites with a Mac user agent; only the touch screen tells
  if (os === 'macOS' && nav.maxTouchPoints > 1) os = 'iPadOS'
  const mobile = hints && typeof hints.mobile === 'boolean' ? hints.mobile : /Mobi|iPhone|iPod/.test(ua)
  const device = os === 'iPadOS' || (os === 'Android' && !mobile) ? 'tablet' : mobile ? 'mobile' : 'desktop'
  const width = scr && scr.width
  const screen = !(width > 0) ? undefined : width < 576 ? 'small' : width < 992 ? 'medium' : width < 1440 ? 'large' : 'xlarge'
  return screen ? { browser, os, device, screen } : { browser, os, device }
}

// props keeps the entries of keys/PROTOCOL.md §12 (at most 10; keys of 1–32 characters;
// strings of at most 128 characters or finite numbers) and drops the rest; null when none.
export function props (value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null
  const kept = Object.entries(value).filter(([k, v]) => k.length >= 1 && k.length <= 32 &&
    ((typeof v === 'string' && v.length <= 128) || (typeof v === 'number' && Number.isFinite(v)))).slice(0, 10)
  return kept.length ? Object.fromEntries(kept) : null
}

// enrich builds the version 1 plaintext from a validated script event and the vault's
// context {now: Date, sessionId, timeZone, mobile, device: deviceInfo(…)}; it returns null
// when the result is larger than MAX_PLAINTEXT bytes.
export function enrich (event, ctx) {
  const p = {
    v: 1,
    type: event.type,
    href: event.href,
    referrer: event.referrer,
    pageload: event.pageload,
    timestamp: ctx.now.toISOString(),
    sessionId: ctx.sessionId,
    geo: geo(ctx.timeZone),
    isMobile: !!ctx.mobile
  }
  if (event.rawHref !== undefined && event.rawHref !== event.href) p.rawHref = event.rawHref
  if (event.type === 'EVENT') {
    p.name = event.name
    const kept = props(event.props)
    if (kept) p.props = kept
  }
  if (event.target) {
    const u = new URL(event.target)
    p.target = u.origin + u.pathname
  }
  if (event.type === 'PAGEVIEW' && event.notFound === true) p.notFound = true
  Object.assign(p, ctx.device)
  return new TextEncoder().encode(JSON.stringify(p)).length > MAX_PLAINTEXT ? null : p
}
