// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pageKey, referrerLabel, referrerGroup, utmValues, validatePayload, IGNORED } from '../../src/metrics/index.js'

test('page keys are origin and path, trailing slashes removed', () => {
  assert.equal(pageKey('https://Example.com/blog/?a=1'), 'https://example.com/blog')
  // only hash routing keeps a fragment in href: it is part of the page then
  assert.equal(pageKey('https://Example.com/app/?a=1#/inbox'), 'https://example.com/app#/inbox')
  assert.equal(pageKey('https://example.com/app#'), 'https://example.com/app')
  assert.equal(pageKey('https://example.com/blog'), 'https://example.com/blog')
  assert.equal(pageKey('https://example.com/blog//'), 'https://example.com/blog')
  assert.equal(pageKey('https://example.com'), 'https://example.com/')
  assert.equal(pageKey('https://example.com/'), 'https://example.com/')
  assert.equal(pageKey('http://example.com:8080/a/'), 'http://example.com:8080/a')
  assert.equal(pageKey('https://www.example.com/a'), 'https://www.example.com/a') // origins stay apart
  assert.equal(pageKey('javascript:alert(1)'), null)
  assert.equal(pageKey('not a url'), null)
})

test('referrers: empty, internal and malformed ones do not count', () => {
  assert.equal(referrerLabel('', 'example.com'), null)
  assert.equal(referrerLabel('https://example.com/a', 'example.com'), null)
  assert.equal(referrerLabel('https://www.example.com/a', 'example.com'), null) // www. is ignored
  assert.equal(referrerLabel('android-app://com.example', 'example.com'), null)
  assert.equal(referrerLabel('nonsense', 'example.com'), null)
  assert.equal(referrerLabel('https://blog.example.com/', 'example.com'), 'blog.example.com')
  assert.equal(referrerLabel('https://www.other.org/x', 'example.com'), 'other.org')
})

test('well-known referrer hosts are grouped', () => {
  const cases = {
    'www.google.com': 'Google', 'google.de': 'Google', 'www.google.co.uk': 'Google', 'news.google.com': 'Google',
    'duckduckgo.com': 'DuckDuckGo', 'www.bing.com': 'Bing', 'cn.bing.com': 'Bing', 'www.ecosia.org': 'Ecosia',
    'l.facebook.com': 'Facebook', 'm.facebook.com': 'Facebook', 'www.linkedin.com': 'LinkedIn', 'lnkd.in': 'LinkedIn',
    'old.reddit.com': 'Reddit', 'news.ycombinator.com': 'Hacker News', 'de.wikipedia.org': 'Wikipedia',
    'en.m.wikipedia.org': 'Wikipedia', 't.co': 'X/Twitter', 'twitter.com': 'X/Twitter', 'x.com': 'X/Twitter',
    'mastodon.social': 'Mastodon', 'fosstodon.org': 'Mastodon', 'mastodon.example.net': 'Mastodon',
    'search.yahoo.com': 'Yahoo', 'bsky.app': 'Bluesky', 'github.com': 'GitHub',
    'googleblog.com': 'googleblog.com', 'notgoogle.com': 'notgoogle.com', 'ycombinator.com': 'ycombinator.com',
    'box.com': 'box.com', 'max.com': 'max.com'
  }
  for (const [host, want] of Object.entries(cases)) assert.equal(referrerGroup(host), want, host)
  assert.equal(referrerLabel('https://www.google.com/search?q=x', 'example.com'), 'Google')
})

test('UTM values come from rawHref when present', () => {
  assert.deepEqual(utmValues('https://e.com/?utm_campaign=a&utm_source=b'), { campaign: 'a', source: 'b' })
  assert.deepEqual(utmValues('https://e.com/', 'https://e.com/?utm_source=b#utm_campaign=x'), { campaign: null, source: 'b' })
  assert.deepEqual(utmValues('https://e.com/?utm_campaign=&utm_source=%20x'), { campaign: null, source: ' x' })
  assert.deepEqual(utmValues('https://e.com/utm_/'), { campaign: null, source: null })
})

test('payload validation', () => {
  const ok = {
    v: 1, type: 'PAGEVIEW', href: 'https://e.com/', referrer: '', pageload: 120, timestamp: '2026-11-22T10:00:00.000Z',
    sessionId: 'ab', geo: 'de', isMobile: true, unknownField: 1
  }
  const none = { name: null, props: null, notFound: false, browser: null, os: null, device: null, screen: null }
  assert.deepEqual(validatePayload(ok), {
    type: 'PAGEVIEW', href: 'https://e.com/', rawHref: null, referrer: '', pageload: 120, time: Date.parse(ok.timestamp),
    sessionId: 'ab', geo: 'DE', isMobile: true, ...none
  })
  // keys/PROTOCOL.md §12: out-of-bounds values are ignored, the event stays readable
  const device = { browser: 'Firefox', os: 'Linux', device: 'desktop', screen: 'large' }
  assert.deepEqual(validatePayload({ ...ok, notFound: true, ...device }), { ...validatePayload(ok), notFound: true, ...device })
  assert.deepEqual(validatePayload({ ...ok, notFound: 1, browser: 'Firefox 133', os: 'linux', device: 'phone', screen: 1200 }), validatePayload(ok))
  const event = validatePayload({ ...ok, type: 'EVENT', name: 'Signup', props: { plan: 'pro', seats: 3, bad: null, long: 'x'.repeat(129), a: 'first' }, notFound: true })
  assert.deepEqual([event.type, event.name, event.props, event.notFound], ['EVENT', 'Signup', [['a', 'first'], ['plan', 'pro'], ['seats', 3]], false])
  assert.equal(validatePayload({ ...ok, type: 'EVENT', props: { a: 1 } }), IGNORED, 'an event without a name')
  assert.equal(validatePayload({ ...ok, type: 'EVENT', name: 'n'.repeat(65) }), IGNORED)
  assert.equal(validatePayload({ ...ok, type: 'EVENT', name: 'x', props: [1] }).props, null)
  const link = validatePayload({ ...ok, type: 'OUTBOUND', target: 'https://other.org/x', name: 'ignored', props: { a: 1 } })
  assert.deepEqual([link.type, link.name, link.props], ['OUTBOUND', 'https://other.org/x', null])
  assert.equal(validatePayload({ ...ok, type: 'DOWNLOAD', target: 'javascript:x' }), IGNORED)
  assert.equal(validatePayload({ ...ok, type: 'DOWNLOAD' }), IGNORED)
  assert.equal(validatePayload({ ...ok, type: 'CUSTOM' }), IGNORED)
  for (const bad of [null, [], 'x', { ...ok, v: 2 }, { ...ok, type: 1 }, { ...ok, href: 'ftp://e.com/' },
    { ...ok, href: 'https://e.com/' + 'a'.repeat(2048) }, { ...ok, timestamp: 'yesterday' }, { ...ok, sessionId: 5 },
    { ...ok, sessionId: '' }]) {
    assert.equal(validatePayload(bad), null, JSON.stringify(bad))
  }
  const lenient = validatePayload({ ...ok, pageload: -1, geo: 'Germany', isMobile: 'yes', referrer: null, sessionId: null })
  assert.deepEqual([lenient.pageload, lenient.geo, lenient.isMobile, lenient.referrer, lenient.sessionId], [null, null, false, '', null])
})
