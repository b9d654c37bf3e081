// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Synthetic traffic for the benchmarks.

import { hex, rng, ulid } from '../test/metrics/gen.js'

const paths = Array.from({ length: 300 }, (_, i) => `/section-${i % 12}/page-${i}${i % 3 ? '/' : ''}`)
const referrers = ['', '', '', 'https://www.google.com/', 'https://duckduckgo.com/', 'https://news.ycombinator.com/',
  'https://t.co/x', 'https://mastodon.social/@a', 'https://blog.example.org/post']
const geos = ['DE', 'FR', 'US', 'GB', 'VN', 'ES', 'PT', null]

/**
 * syntheticBatches yields decrypted records in batches of `size` (as sync pages arrive, so the
 * input never exists all at once): `events` page views of `visitors` visitors in sessions of
 * 1–12 pages, spread over [start, end). Every call with the same arguments yields the same.
 */
export function * syntheticBatches ({ events: EVENTS, visitors: VISITORS, start, end: now, size, seed = 42 }) {
  const rand = rng(seed)
  const visitors = Array.from({ length: VISITORS }, () => ({ secretId: hex(rand, 64), keyId: hex(rand, 32) }))
  let made = 0
  while (made < EVENTS) {
    const batch = []
    while (batch.length < size && made < EVENTS) {
      const v = visitors[Math.floor(rand() * VISITORS)]
      const sessionId = hex(rand, 32)
      let t = start + Math.floor(rand() * (now - start))
      const depth = Math.min(EVENTS - made, 1 + Math.floor(rand() * rand() * 12))
      const referrer = referrers[Math.floor(rand() * referrers.length)]
      const geo = geos[Math.floor(rand() * geos.length)]
      const mobile = rand() < 0.4
      for (let d = 0; d < depth; d++) {
        batch.push({
          eventId: ulid(t + 50, rand),
          secretId: v.secretId,
          keyId: v.keyId,
          payload: {
            v: 1,
            type: 'PAGEVIEW',
            href: 'https://www.example.com' + paths[Math.floor(rand() * paths.length)] + (d === 0 && rand() < 0.1 ? '?utm_source=news&utm_campaign=c' + Math.floor(rand() * 5) : ''),
            referrer: d === 0 ? referrer : 'https://www.example.com/',
            pageload: rand() < 0.3 ? null : Math.floor(rand() * 2000),
            timestamp: new Date(t).toISOString(),
            sessionId,
            geo,
            isMobile: mobile
          }
        })
        t += Math.floor(rand() * 120000)
        made++
      }
    }
    yield batch
  }
}
