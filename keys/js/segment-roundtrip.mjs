// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Cross-language round trip of segments, driven by keys/segment/crosslang_test.go: opens and
// decodes the segment Go sealed (JSON on stdin), and seals one of its own from random events;
// writes both as JSON on stdout for Go to check.

import { fromBase64Url, toBase64Url } from './crypto.js'
import { decodeSegment, deriveSegmentKey, encodeSegment, openSegment, sealSegment, segmentCoverage, ulidString } from './segment.js'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const go = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const key = await deriveSegmentKey(fromBase64Url(go.kek))
const read = decodeSegment(await openSegment(key, go.accountId, go.period, 1, go.sealed), { accountId: go.accountId, period: go.period })

const start = Date.parse(go.period + 'T00:00:00.000Z')
const pick = (a) => a[Math.floor(Math.random() * a.length)]
const maybe = (v) => Math.random() < 0.5 ? v : undefined
const records = []
for (let i = 0; i < 500; i++) {
  const t = start + Math.floor(Math.random() * 86400000)
  const id = new Uint8Array(16)
  for (let k = 5, x = t; k >= 0; k--, x = Math.floor(x / 256)) id[k] = x % 256
  globalThis.crypto.getRandomValues(id.subarray(6))
  const payload = {
    v: 1,
    type: pick(['PAGEVIEW', 'PAGEVIEW', 'EVENT', 'OUTBOUND', 'DOWNLOAD', 'LATER']),
    href: pick(['https://example.com/', 'https://example.com/ä/ß', 'https://example.com/x?utm_source=y', 42, null]),
    rawHref: maybe('https://example.com/x?utm_source=y&z=1'),
    referrer: pick(['', 'https://www.google.com/', 'https://例え.jp/']),
    pageload: pick([null, 0.4, 120.5, 3000, -1, 'slow']),
    timestamp: pick([new Date(t - 1000).toISOString(), t + 5, 'Sun, 22 Nov 2026 13:00:00 GMT', undefined]),
    sessionId: maybe(toBase64Url(id.subarray(10))),
    geo: pick(['DE', 'fr', null]),
    isMobile: pick([true, false, undefined, 'yes']),
    notFound: maybe(true),
    name: maybe(pick(['Signup', 'Größe 🙂'])),
    props: maybe(pick([{ plan: 'pro', seats: 3 }, { '😀': 1, '\uff5e': 'x' }, {}, { deep: { x: 1 } }])),
    target: maybe('https://other.example.org/f.pdf'),
    browser: maybe('Firefox'),
    os: maybe('Linux'),
    device: maybe('mobile'),
    screen: maybe('small'),
    later: maybe({ b: [1, 'two', null], a: -0 })
  }
  records.push({ eventId: ulidString(id), secretId: 's' + (i % 17), keyId: 'k' + (i % 23), payload })
}
const unreadable = [ulidString(Uint8Array.from([...fromHexTime(start + 5), 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]))]
const plaintext = encodeSegment({ accountId: go.accountId, period: go.period, records, unreadable })
const coverage = await segmentCoverage([...records.map((r) => r.eventId), ...unreadable])

function fromHexTime (t) {
  const b = []
  for (let k = 0; k < 6; k++, t = Math.floor(t / 256)) b.unshift(t % 256)
  return b
}

process.stdout.write(JSON.stringify({
  read,
  made: { records, unreadable, sealed: await sealSegment(key, go.accountId, go.period, 1, plaintext), plaintext: toBase64Url(plaintext), coverage }
}))
