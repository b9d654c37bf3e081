// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Helpers of EventStore#addSegment, which reads the columns of decodeSegmentColumns
// (keys/js/segment.js, keys/PROTOCOL.md §13) without an object per event.

const CROCKFORD_CODES = Uint8Array.from('0123456789ABCDEFGHJKMNPQRSTVWXYZ', c => c.charCodeAt(0))

/** ulidOf writes the 26 Crockford bytes of the 16-byte binary ULID at bin[off] into out[at]. */
export function ulidOf (bin, off, out, at) {
  // 130 bits: two zero bits, then the 128 of the id as four big-endian words; symbol i holds
  // bits [5i - 2, 5i + 3) of those 128
  const w0 = (bin[off] << 24 | bin[off + 1] << 16 | bin[off + 2] << 8 | bin[off + 3]) >>> 0
  const w1 = (bin[off + 4] << 24 | bin[off + 5] << 16 | bin[off + 6] << 8 | bin[off + 7]) >>> 0
  const w2 = (bin[off + 8] << 24 | bin[off + 9] << 16 | bin[off + 10] << 8 | bin[off + 11]) >>> 0
  const w3 = (bin[off + 12] << 24 | bin[off + 13] << 16 | bin[off + 14] << 8 | bin[off + 15]) >>> 0
  out[at] = CROCKFORD_CODES[w0 >>> 29]
  for (let i = 1; i < 26; i++) {
    const b = 5 * i - 2
    const w = b >> 5
    const o = b & 31
    const hi = w === 0 ? w0 : w === 1 ? w1 : w === 2 ? w2 : w3
    let v
    if (o <= 27) v = (hi >>> (27 - o)) & 31
    else v = ((hi << (o - 27)) | ((w === 0 ? w1 : w === 1 ? w2 : w3) >>> (59 - o))) & 31
    out[at + i] = CROCKFORD_CODES[v]
  }
}

/** flat returns a copy of s that shares no memory with a string it may have been sliced from. */
export function flat (s) {
  return s.length > 12 ? JSON.parse(JSON.stringify(s)) : s
}

/**
 * rowPayload returns the plaintext of row i of decoded columns c as decodeSegment builds it:
 * for the rare rows with extras, which go through the same validation as a decrypted event.
 */
export function rowPayload (c, i) {
  const tab = (col, list) => (col[i] === 0 ? undefined : list[col[i] - 1])
  const bool = (v) => (v === 0 ? undefined : v === 2)
  let props
  if (c.hasProps[i]) {
    props = {}
    for (let j = c.propStart[i]; j < c.propStart[i + 1]; j++) props[c.propKeys[c.propKey[j]]] = c.propStr[j] < 0 ? c.propNum[j] : c.propStrings[c.propStr[j]]
  }
  const payload = {
    v: 1,
    type: c.types[c.type[i]],
    href: tab(c.href, c.hrefs),
    rawHref: tab(c.rawHref, c.hrefs),
    referrer: tab(c.referrer, c.referrers),
    pageload: c.pageload[i] === 0 ? undefined : c.pageload[i],
    timestamp: Number.isNaN(c.time[i]) ? undefined : c.time[i],
    sessionId: tab(c.session, c.sessionIds),
    geo: tab(c.geo, c.geos),
    isMobile: bool(c.isMobile[i]),
    notFound: bool(c.notFound[i]),
    name: tab(c.name, c.names),
    props,
    target: tab(c.target, c.targets),
    browser: tab(c.browser, c.browsers),
    os: tab(c.os, c.oses),
    device: tab(c.device, c.devices),
    screen: tab(c.screen, c.screens)
  }
  if (c.extra[i] !== 0) Object.assign(payload, c.extras[c.extra[i] - 1])
  return payload
}
