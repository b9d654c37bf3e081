// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Ranges of PRODUCT.md §5 in the browser's local time: yesterday, 24 hours, 7 days (the
// default), 30 days, 6 weeks, 12 weeks, 6 months and custom dates; which of them the
// account's retention allows; and the resolutions that fit a range.

import { resolutionFor } from '../metrics/time.js'

export const RANGES = ['yesterday', '24h', '7d', '30d', '6w', '12w', '6m', 'custom']
export const DEFAULT_RANGE = '7d'
const HOUR = 3600 * 1000
const DAY = 24 * HOUR

function startOfDay (ms, addDays = 0, addMonths = 0) {
  const d = new Date(ms)
  return new Date(d.getFullYear(), d.getMonth() + addMonths, d.getDate() + addDays).getTime()
}

/** parseDate reads 'YYYY-MM-DD' as local midnight (ms), or null. */
export function parseDate (s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '')
  if (!m) return null
  const t = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime()
  return Number.isNaN(t) ? null : t
}

/** formatDate writes ms as local 'YYYY-MM-DD'. */
export function formatDate (ms) {
  const d = new Date(ms)
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/**
 * rangeBounds returns {from, to} (ms, to exclusive) of a range at `now`; custom ranges take
 * {from: 'YYYY-MM-DD', to: 'YYYY-MM-DD'} (both days included). null for an invalid custom range.
 */
export function rangeBounds (id, now, custom = {}) {
  const end = now + 1
  switch (id) {
    case 'yesterday': return { from: startOfDay(now, -1), to: startOfDay(now) }
    case '24h': return { from: now - 24 * HOUR, to: end }
    case '7d': return { from: startOfDay(now, -6), to: end }
    case '30d': return { from: startOfDay(now, -29), to: end }
    case '6w': return { from: startOfDay(now, -41), to: end }
    case '12w': return { from: startOfDay(now, -83), to: end }
    case '6m': return { from: startOfDay(now, 1, -6), to: end }
    case 'custom': {
      const from = parseDate(custom.from)
      const last = parseDate(custom.to)
      if (from === null || last === null || last < from) return null
      return { from, to: startOfDay(last, 1) }
    }
    default: return null
  }
}

/** rangeAllowed: a range is offered only when it starts within the retention. */
export function rangeAllowed (id, now, retentionMs, custom) {
  if (id === 'custom') return true
  const b = rangeBounds(id, now, custom)
  return !!b && (!retentionMs || b.from >= now - retentionMs)
}

/** resolutionsFor lists the resolutions that fit [from, to), the suggested one first. */
export function resolutionsFor (from, to) {
  const span = to - from
  const out = []
  if (span <= 3 * DAY) out.push('hours')
  if (span >= DAY - HOUR && span <= 200 * DAY) out.push('days')
  if (span >= 14 * DAY) out.push('weeks')
  if (span >= 60 * DAY) out.push('months')
  const suggested = resolutionFor(from, to)
  if (!out.includes(suggested)) out.push(suggested)
  return out
}

/** defaultResolution is the suggested resolution of a range. */
export function defaultResolution (from, to) {
  return resolutionFor(from, to)
}
