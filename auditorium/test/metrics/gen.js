// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Random but reproducible event records for property tests and the benchmark.

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** rng returns a seeded PRNG (mulberry32) yielding floats in [0, 1). */
export function rng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** ulid builds a ULID for time ms with randomness from rand. */
export function ulid (ms, rand) {
  const chars = new Array(26)
  let t = ms
  for (let i = 9; i >= 0; i--) {
    chars[i] = CROCKFORD[t % 32]
    t = Math.floor(t / 32)
  }
  for (let i = 10; i < 26; i++) chars[i] = CROCKFORD[Math.floor(rand() * 32)]
  return chars.join('')
}

export function hex (rand, n) {
  const chars = new Array(n)
  for (let i = 0; i < n; i++) chars[i] = '0123456789abcdef'[Math.floor(rand() * 16)]
  return chars.join('') // a flat string, as JSON.parse makes them
}

const PATHS = ['/', '/about', '/about/', '/blog', '/blog/post-1', '/blog/post-2/', '/pricing', '/contact', '/docs/a', '/docs/b']
const REFERRERS = ['', '', '', 'https://www.google.com/', 'https://www.google.de/search', 'https://duckduckgo.com/',
  'https://news.ycombinator.com/item', 'https://t.co/abc', 'https://mastodon.social/@x', 'https://other.example/',
  'https://example.com/about', 'https://www.example.com/', 'https://en.wikipedia.org/wiki/X', 'not a url']
const GEOS = ['DE', 'FR', 'US', 'VN', null, 'de']
const UTM = ['', '', '', '?utm_source=newsletter&utm_campaign=spring', '?utm_source=mastodon', '?utm_campaign=fall']

const NAMES = ['Signup', 'Play', 'Newsletter']
const PROPS = [undefined, { plan: 'pro' }, { plan: 'free', seats: 3 }, { seats: 3 }, { plan: 'pro', bad: null }]
const TARGETS = ['https://other.example/a', 'https://docs.example/b', 'https://example.com/files/report.pdf']
const DEVICE = [['Chrome', 'Windows', 'desktop', 'xlarge'], ['Safari', 'iOS', 'mobile', 'small'], ['Firefox', 'Linux', 'desktop', 'large'],
  ['Safari', 'iPadOS', 'tablet', 'medium'], [undefined, undefined, undefined, undefined], ['Chrome', 'Android', 'mobile', 'small']]

/**
 * generate returns {records, start, end}: `visitors` visitors with sessions of 1–8 page views
 * spread over [start, end), with a few invalid and unknown-type records mixed in when
 * `noise` is set. With `actions`, sessions have device fields, some page views are "not
 * found" and custom events, outbound links and downloads follow some page views (the
 * default keeps the data of the benchmarks as it was).
 */
export function generate ({ seed = 1, visitors = 50, sessionsPerVisitor = 3, start, end, noise = true, actions = false }) {
  const rand = rng(seed)
  const records = []
  for (let v = 0; v < visitors; v++) {
    const secretId = hex(rand, 64)
    const keys = [hex(rand, 32), hex(rand, 32)]
    const nSessions = 1 + Math.floor(rand() * sessionsPerVisitor * 2)
    for (let s = 0; s < nSessions; s++) {
      const sessionId = rand() < 0.05 ? null : hex(rand, 32)
      const mobile = rand() < 0.3
      const geo = GEOS[Math.floor(rand() * GEOS.length)]
      let t = start + Math.floor(rand() * (end - start))
      const depth = 1 + Math.floor(rand() * rand() * 8)
      const keyId = keys[Math.floor(rand() * 2)]
      const device = actions ? DEVICE[Math.floor(rand() * DEVICE.length)] : null
      for (let d = 0; d < depth; d++) {
        const path = PATHS[Math.floor(rand() * PATHS.length)]
        const utm = d === 0 || rand() < 0.1 ? UTM[Math.floor(rand() * UTM.length)] : ''
        const payload = {
          v: 1,
          type: 'PAGEVIEW',
          href: 'https://example.com' + path + utm,
          referrer: d === 0 ? REFERRERS[Math.floor(rand() * REFERRERS.length)] : 'https://example.com/',
          pageload: rand() < 0.2 ? null : Math.floor(rand() * 3000) - 100,
          timestamp: new Date(t).toISOString(),
          sessionId,
          geo,
          isMobile: mobile
        }
        if (rand() < 0.1) {
          payload.rawHref = payload.href
          payload.href = 'https://example.com' + path
        }
        if (device) {
          [payload.browser, payload.os, payload.device, payload.screen] = device
          if (rand() < 0.1) payload.notFound = true
        }
        records.push({ eventId: ulid(t + Math.floor(rand() * 5000), rand), secretId, keyId, payload })
        while (actions && rand() < 0.35) {
          // an action on this page, at the same time or up to a few minutes later
          t += Math.floor(rand() * 3) === 0 ? 0 : Math.floor(rand() * 4 * 60 * 1000)
          const r = rand()
          const action = { ...payload, referrer: '', pageload: null, timestamp: new Date(t).toISOString() }
          delete action.notFound
          if (r < 0.6) Object.assign(action, { type: 'EVENT', name: NAMES[Math.floor(rand() * NAMES.length)], props: PROPS[Math.floor(rand() * PROPS.length)] })
          else Object.assign(action, { type: r < 0.8 ? 'OUTBOUND' : 'DOWNLOAD', target: TARGETS[Math.floor(rand() * TARGETS.length)] })
          if (action.props === undefined) delete action.props
          records.push({ eventId: ulid(t + Math.floor(rand() * 5000), rand), secretId, keyId, payload: action })
        }
        t += Math.floor(rand() * 10 * 60 * 1000) // same time now and then
      }
    }
  }
  if (noise) {
    const n = Math.max(1, Math.floor(records.length / 50))
    for (let i = 0; i < n; i++) {
      const base = records[Math.floor(rand() * records.length)]
      const r = rand()
      if (r < 0.3) records.push({ ...base, eventId: ulid(start, rand), payload: { ...base.payload, v: 2 } })
      else if (r < 0.5) records.push({ ...base, eventId: ulid(start, rand), payload: { ...base.payload, type: 'CLICK' } })
      else if (r < 0.7) records.push({ ...base, eventId: ulid(start, rand), payload: { ...base.payload, href: 'ftp://x/' } })
      else records.push({ ...base }) // duplicate
    }
  }
  // shuffle: sync order is not time order
  for (let i = records.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const tmp = records[i]
    records[i] = records[j]
    records[j] = tmp
  }
  return { records, start, end }
}
