// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Validation of decrypted event plaintext (PROTOCOL.md §1, "Event plaintext, version 1") and
// the derived values the metrics are defined on: page key, hosts, referrer label, UTM values.

/** Result of validatePayload for a readable event whose type is not counted (yet). */
export const IGNORED = 'ignored'

const MAX_HREF = 2048
const MAX_SESSION_ID = 128
const ULID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/

/** validEventId returns the upper-cased event id when it is a ULID, else null. */
export function validEventId (eventId) {
  if (typeof eventId !== 'string' || !ULID.test(eventId)) return null
  return eventId.toUpperCase()
}

// Fields of keys/PROTOCOL.md §12. Out-of-bounds values are ignored (the event stays readable).
export const KINDS = ['PAGEVIEW', 'EVENT', 'OUTBOUND', 'DOWNLOAD']
export const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge', 'Opera', 'Samsung Internet', 'Other']
export const OSES = ['Windows', 'macOS', 'iOS', 'iPadOS', 'Android', 'Linux', 'ChromeOS', 'Other']
export const DEVICES = ['desktop', 'tablet', 'mobile']
export const SCREENS = ['small', 'medium', 'large', 'xlarge']
const MAX_PROPS = 10
const oneOf = (list, v) => (typeof v === 'string' && list.includes(v) ? v : null)

/**
 * validProps returns the entries of a props object that keep to §12 (keys of 1–32
 * characters; strings of at most 128 characters or finite numbers; the first 10) sorted by
 * key, or null when none does.
 */
export function validProps (props) {
  if (props === null || typeof props !== 'object' || Array.isArray(props)) return null
  const out = []
  for (const k of Object.keys(props)) {
    const v = props[k]
    if (k.length < 1 || k.length > 32) continue
    if (!((typeof v === 'string' && v.length <= 128) || (typeof v === 'number' && Number.isFinite(v)))) continue
    out.push([k, v])
    if (out.length === MAX_PROPS) break
  }
  return out.length ? out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) : null
}

/**
 * validatePayload checks a decrypted event plaintext. It returns
 *   - null when the plaintext is not a valid version 1 event (counted as unreadable),
 *   - IGNORED for a valid event of a type the metrics do not count (readers ignore unknown
 *     types), and for an EVENT without a valid name or a link event without a valid target,
 *   - else {type, href, rawHref, referrer, pageload, time, sessionId, geo, isMobile, name,
 *     props, notFound, browser, os, device, screen} with time in ms since the epoch (from
 *     `timestamp`), pageload a positive number or null, sessionId a string or null, geo an
 *     upper-case ISO 3166-1 alpha-2 code or null, name the event name (EVENT) or the link
 *     target (OUTBOUND, DOWNLOAD) or null, props sorted [key, value] pairs or null, and the
 *     device fields one of their §12 values or null.
 */
export function validatePayload (p) {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return null
  if (p.v !== 1) return null
  const type = p.type
  if (typeof type !== 'string') return null
  if (!KINDS.includes(type)) return IGNORED
  const href = p.href
  if (typeof href !== 'string' || href.length === 0 || href.length > MAX_HREF) return null
  if (!pageInfo(href)) return null
  let time
  if (typeof p.timestamp === 'string') time = Date.parse(p.timestamp)
  else if (typeof p.timestamp === 'number') time = p.timestamp
  if (!Number.isFinite(time)) return null
  let sessionId = null
  if (p.sessionId !== undefined && p.sessionId !== null) {
    if (typeof p.sessionId !== 'string' || p.sessionId.length === 0 || p.sessionId.length > MAX_SESSION_ID) return null
    sessionId = p.sessionId
  }
  let name = null
  if (type === 'EVENT') {
    if (typeof p.name !== 'string' || p.name.length < 1 || p.name.length > 64) return IGNORED
    name = p.name
  } else if (type !== 'PAGEVIEW') {
    if (typeof p.target !== 'string' || p.target.length > MAX_HREF || !pageInfo(p.target)) return IGNORED
    name = p.target
  }
  const rawHref = typeof p.rawHref === 'string' && p.rawHref.length <= MAX_HREF ? p.rawHref : null
  const referrer = typeof p.referrer === 'string' ? p.referrer : ''
  const pageload = typeof p.pageload === 'number' && Number.isFinite(p.pageload) && p.pageload > 0 ? p.pageload : null
  const geo = typeof p.geo === 'string' && /^[A-Za-z]{2}$/.test(p.geo) ? p.geo.toUpperCase() : null
  return {
    type,
    href,
    rawHref,
    referrer,
    pageload,
    time,
    sessionId,
    geo,
    isMobile: p.isMobile === true,
    name,
    props: type === 'EVENT' ? validProps(p.props) : null,
    notFound: type === 'PAGEVIEW' && p.notFound === true,
    browser: oneOf(BROWSERS, p.browser),
    os: oneOf(OSES, p.os),
    device: oneOf(DEVICES, p.device),
    screen: oneOf(SCREENS, p.screen)
  }
}

const pageCache = new Map()

/**
 * pageInfo parses an http(s) URL into {key, host}: key is origin + path with trailing slashes
 * removed (the root stays "/"), plus the fragment when there is one (only hash routing
 * keeps it in `href`), host the lower-case host name without a leading "www.".
 * Returns null for anything else. Results are memoised (hrefs repeat a lot).
 */
export function pageInfo (href) {
  let info = pageCache.get(href)
  if (info !== undefined) return info
  info = null
  try {
    const u = new URL(href)
    if (u.protocol === 'http:' || u.protocol === 'https:') {
      let path = u.pathname
      if (path.length > 1) path = path.replace(/\/+$/, '') || '/'
      info = { key: u.origin + path + (u.hash.length > 1 ? u.hash : ''), host: bareHost(u.hostname) }
    }
  } catch (_) {}
  if (pageCache.size > 100000) pageCache.clear()
  pageCache.set(href, info)
  return info
}

/** pageKey is pageInfo(href).key, or null. */
export function pageKey (href) {
  const info = pageInfo(href)
  return info ? info.key : null
}

function bareHost (hostname) {
  const h = hostname.toLowerCase()
  return h.startsWith('www.') ? h.slice(4) : h
}

// Well-known referrer hosts, grouped under one name. A host matches a domain when it equals it
// or ends with "." + domain; patterns cover country domains (google.de, google.co.uk).
const REFERRER_GROUPS = [
  ['Google', [], /(^|\.)google\.(com?\.)?[a-z]{2,3}$/],
  ['DuckDuckGo', ['duckduckgo.com', 'ddg.gg']],
  ['Bing', ['bing.com']],
  ['Ecosia', ['ecosia.org']],
  ['Yahoo', [], /(^|\.)yahoo\.(com?\.)?[a-z]{2,3}$/],
  ['Yandex', [], /(^|\.)yandex\.(com?\.)?[a-z]{2,3}$/],
  ['Baidu', ['baidu.com']],
  ['Qwant', ['qwant.com']],
  ['Startpage', ['startpage.com']],
  ['Brave Search', ['search.brave.com']],
  ['Kagi', ['kagi.com']],
  ['Facebook', ['facebook.com', 'fb.com', 'fb.me']],
  ['Instagram', ['instagram.com']],
  ['LinkedIn', ['linkedin.com', 'lnkd.in']],
  ['Reddit', ['reddit.com', 'redd.it']],
  ['Hacker News', ['news.ycombinator.com']],
  ['Wikipedia', ['wikipedia.org']],
  ['X/Twitter', ['twitter.com', 'x.com', 't.co']],
  ['Mastodon', ['mastodon.social', 'mastodon.online', 'mstdn.social', 'mas.to', 'fosstodon.org',
    'hachyderm.io', 'infosec.exchange', 'chaos.social', 'mastodon.world', 'troet.cafe'], /^(mastodon|mstdn)\./],
  ['Bluesky', ['bsky.app']],
  ['Threads', ['threads.net', 'threads.com']],
  ['YouTube', ['youtube.com', 'youtu.be']],
  ['GitHub', ['github.com']],
  ['Pinterest', [], /(^|\.)pinterest\.(com?\.)?[a-z]{2,3}$/]
]

/** referrerGroup maps a bare host to its group name, or returns the host itself. */
export function referrerGroup (host) {
  for (const [name, domains, pattern] of REFERRER_GROUPS) {
    for (const d of domains) {
      if (host === d || host.endsWith('.' + d)) return name
    }
    if (pattern && pattern.test(host)) return name
  }
  return host
}

const referrerCache = new Map()

/**
 * referrerLabel returns the referrer table key of an event: null when the referrer is empty,
 * not an http(s) URL, or has the page's host (compared without a leading "www."); else the
 * group name of a well-known host or the bare referrer host.
 */
export function referrerLabel (referrer, pageHost) {
  if (!referrer) return null
  let host = referrerCache.get(referrer)
  if (host === undefined) {
    host = null
    try {
      const u = new URL(referrer)
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname) host = bareHost(u.hostname)
    } catch (_) {}
    if (referrerCache.size > 100000) referrerCache.clear()
    referrerCache.set(referrer, host)
  }
  if (host === null || host === pageHost) return null
  let group = groupCache.get(host)
  if (group === undefined) {
    group = referrerGroup(host)
    if (groupCache.size > 100000) groupCache.clear()
    groupCache.set(host, group)
  }
  return group
}
const groupCache = new Map()

/**
 * utmValues returns {campaign, source} from the query of rawHref (the address the visitor
 * really opened, when it differs from the canonical href) or else href; empty values are null.
 */
export function utmValues (href, rawHref) {
  const url = rawHref || href
  if (url.indexOf('utm_') < 0) return NO_UTM
  const q = url.indexOf('?')
  if (q < 0) return NO_UTM
  const h = url.indexOf('#', q)
  const params = new URLSearchParams(h < 0 ? url.slice(q + 1) : url.slice(q + 1, h))
  return { campaign: params.get('utm_campaign') || null, source: params.get('utm_source') || null }
}
const NO_UTM = Object.freeze({ campaign: null, source: null })

// patterns caches compiled page patterns: '*' matches any run of characters, everything else
// itself; a pattern matches the path (with its fragment, if any) of a page key.
const patterns = new Map()

/**
 * pathMatcher returns a function (page key) -> boolean for a goal or funnel page pattern
 * such as "/pricing", "/blog/*" or "/app#/settings*"; trailing slashes are ignored as in
 * page keys, and a pattern not starting with "/" never matches.
 */
export function pathMatcher (pattern) {
  let fn = patterns.get(pattern)
  if (fn) return fn
  let p = typeof pattern === 'string' ? pattern : ''
  if (p.length > 1) p = p.replace(/\/+(?=$|#)/, '') || '/'
  const re = p.startsWith('/')
    ? new RegExp('^' + p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
    : null
  const cache = new Map()
  fn = (key) => {
    if (re === null) return false
    let hit = cache.get(key)
    if (hit === undefined) {
      const slash = key.indexOf('/', key.indexOf('//') + 2)
      hit = slash >= 0 && re.test(key.slice(slash))
      if (cache.size < 100000) cache.set(key, hit)
    }
    return hit
  }
  if (patterns.size > 1000) patterns.clear()
  patterns.set(pattern, fn)
  return fn
}
