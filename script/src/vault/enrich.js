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

// enrich builds the version 1 plaintext from a validated script event and the vault's
// context {now: Date, sessionId, timeZone, mobile}; it returns null when the result is
// larger than MAX_PLAINTEXT bytes.
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
  return new TextEncoder().encode(JSON.stringify(p)).length > MAX_PLAINTEXT ? null : p
}
