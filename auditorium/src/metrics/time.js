// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Calendar arithmetic in a given IANA time zone (the browser's by default), used to cut a
// range into hours, days, weeks (starting Monday) or months of local time.

export const RESOLUTIONS = ['hours', 'days', 'weeks', 'months']
export const HOUR = 3600 * 1000
export const DAY = 24 * HOUR
export const WEEK = 7 * DAY

/** localTimeZone is the time zone of this browser (or process). */
export function localTimeZone () {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

const formats = new Map()
function format (timeZone) {
  let f = formats.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    })
    formats.set(timeZone, f)
  }
  return f
}

/** localParts returns the wall-clock {y, m (0-11), d, h, min, s} of instant t in timeZone. */
export function localParts (t, timeZone) {
  const out = { y: 0, m: 0, d: 0, h: 0, min: 0, s: 0 }
  for (const p of format(timeZone).formatToParts(new Date(t))) {
    switch (p.type) {
      case 'year': out.y = +p.value; break
      case 'month': out.m = +p.value - 1; break
      case 'day': out.d = +p.value; break
      case 'hour': out.h = +p.value % 24; break
      case 'minute': out.min = +p.value; break
      case 'second': out.s = +p.value; break
    }
  }
  return out
}

function offsetAt (t, timeZone) {
  const p = localParts(t, timeZone)
  const wall = Date.UTC(p.y, p.m, p.d, p.h, p.min, p.s)
  return wall - (Math.floor(t / 1000) * 1000)
}

/**
 * fromLocal returns the instant of the wall-clock time y-m-d h:00 in timeZone. In a DST gap it
 * returns the first instant after the gap; in a repeated hour, the earlier one.
 */
export function fromLocal (y, m, d, h, timeZone) {
  const wall = Date.UTC(y, m, d, h)
  const o1 = offsetAt(wall, timeZone)
  let t = wall - o1
  const o2 = offsetAt(t, timeZone)
  if (o2 !== o1) {
    const t2 = wall - o2
    // prefer an instant that really shows this wall time; in a gap take the later one
    t = offsetAt(t2, timeZone) === o2 ? Math.min(t, t2) : Math.max(t, t2)
  }
  return t
}

function pad (n, w = 2) {
  return String(n).padStart(w, '0')
}

function unitStart (t, resolution, timeZone) {
  const p = localParts(t, timeZone)
  switch (resolution) {
    case 'hours':
      return t - ((p.min * 60 + p.s) * 1000) - (t % 1000 + 1000) % 1000
    case 'days':
      return fromLocal(p.y, p.m, p.d, 0, timeZone)
    case 'weeks': {
      const dow = (new Date(Date.UTC(p.y, p.m, p.d)).getUTCDay() + 6) % 7 // Monday = 0
      const monday = new Date(Date.UTC(p.y, p.m, p.d - dow))
      return fromLocal(monday.getUTCFullYear(), monday.getUTCMonth(), monday.getUTCDate(), 0, timeZone)
    }
    case 'months':
      return fromLocal(p.y, p.m, 1, 0, timeZone)
  }
  throw new Error(`metrics: unknown resolution ${resolution}`)
}

function nextStart (start, resolution, timeZone) {
  if (resolution === 'hours') {
    let next = start + HOUR
    const p = localParts(next, timeZone)
    next -= (p.min * 60 + p.s) * 1000
    if (next <= start) next += HOUR
    return next
  }
  const p = localParts(start + 12 * HOUR, timeZone) // safely inside the unit
  if (resolution === 'days') return fromLocal(p.y, p.m, p.d + 1, 0, timeZone)
  if (resolution === 'weeks') {
    const dow = (new Date(Date.UTC(p.y, p.m, p.d)).getUTCDay() + 6) % 7
    return fromLocal(p.y, p.m, p.d - dow + 7, 0, timeZone)
  }
  return fromLocal(p.y, p.m + 1, 1, 0, timeZone)
}

/** bucketLabel names a bucket by its local start: YYYY-MM-DDTHH, YYYY-MM-DD (days, weeks) or YYYY-MM. */
export function bucketLabel (start, resolution, timeZone) {
  const p = localParts(start, timeZone)
  const day = `${pad(p.y, 4)}-${pad(p.m + 1)}-${pad(p.d)}`
  if (resolution === 'hours') return `${day}T${pad(p.h)}`
  if (resolution === 'months') return `${pad(p.y, 4)}-${pad(p.m + 1)}`
  return day
}

/**
 * resolutionFor suggests the resolution that fits a range: hours up to 2 days, days up to
 * 45 days (so 30 days and 6 weeks), weeks up to 200 days (12 weeks, 6 months), else months.
 */
export function resolutionFor (from, to) {
  const span = to - from
  if (span <= 2 * DAY) return 'hours'
  if (span <= 45 * DAY) return 'days'
  if (span <= 200 * DAY) return 'weeks'
  return 'months'
}

const MAX_BUCKETS = 20000

/**
 * makeBuckets cuts [from, to) into local hours, days, weeks or months. Returns
 * {bounds: Float64Array(n + 1), labels: string[n]}: bucket i is [bounds[i], bounds[i+1]); the
 * first bucket starts at the unit containing `from` (events before `from` never count), the
 * last one ends at or after `to`. An empty range has no buckets.
 */
export function makeBuckets (from, to, resolution, timeZone) {
  if (!RESOLUTIONS.includes(resolution)) throw new Error(`metrics: unknown resolution ${resolution}`)
  const bounds = []
  const labels = []
  if (to > from) {
    let start = unitStart(from, resolution, timeZone)
    while (start < to) {
      if (bounds.length >= MAX_BUCKETS) throw new Error('metrics: too many buckets for this range and resolution')
      bounds.push(start)
      labels.push(bucketLabel(start, resolution, timeZone))
      start = nextStart(start, resolution, timeZone)
    }
    bounds.push(start)
  }
  return { bounds: Float64Array.from(bounds), labels }
}

/** bucketIndex returns i with bounds[i] <= t < bounds[i+1], or -1 when t lies outside. */
export function bucketIndex (bounds, t) {
  let lo = 0
  let hi = bounds.length - 1
  if (hi < 1 || t < bounds[0] || t >= bounds[hi]) return -1
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (bounds[mid] <= t) lo = mid
    else hi = mid
  }
  return lo
}
