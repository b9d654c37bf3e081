// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Validation of script -> vault messages (PROTOCOL §1). Every check returns an error
// string for the ERROR reply, or '' when the message may be processed.

const MAX_URL = 2048
// TYPES are the event types of keys/PROTOCOL.md §12.
const TYPES = ['PAGEVIEW', 'EVENT', 'OUTBOUND', 'DOWNLOAD']
const isStr = (v, max) => typeof v === 'string' && v.length <= max
const isURL = (v) => {
  try {
    return /^https?:$/.test(new URL(v).protocol)
  } catch {
    return false
  }
}

// checkSender verifies that a MessageEvent comes from the embedding page and from an
// origin the account allows (an empty list allows every origin).
export function checkSender (event, parentWindow, allowedOrigins) {
  if (!parentWindow || event.source !== parentWindow) return 'invalid source'
  if (allowedOrigins.length && !allowedOrigins.includes(event.origin)) return 'origin not allowed'
  return ''
}

// checkMessage validates the message body for the vault of accountId.
export function checkMessage (data, accountId) {
  if (!data || typeof data !== 'object' || data.v !== 1) return 'invalid message'
  if (data.type !== 'EVENT' && data.type !== 'CONSENT') return 'unknown message type'
  if (data.accountId !== accountId) return 'account mismatch'
  if (data.type === 'CONSENT') return ''
  if ('skipConsent' in data && typeof data.skipConsent !== 'boolean') return 'invalid skipConsent'
  const e = data.event
  if (!e || typeof e !== 'object') return 'invalid event'
  if (!TYPES.includes(e.type)) return 'invalid event type'
  if (!isStr(e.href, MAX_URL) || !isURL(e.href)) return 'invalid href'
  if (e.rawHref !== undefined && (!isStr(e.rawHref, MAX_URL) || !isURL(e.rawHref))) return 'invalid rawHref'
  if (!isStr(e.referrer, MAX_URL) || (e.referrer !== '' && !isURL(e.referrer))) return 'invalid referrer'
  if (e.pageload !== null && !(Number.isInteger(e.pageload) && e.pageload >= 0 && e.pageload < 36e5)) return 'invalid pageload'
  if (e.type === 'EVENT' && !(typeof e.name === 'string' && e.name.length >= 1 && e.name.length <= 64)) return 'invalid event name'
  if ((e.type === 'OUTBOUND' || e.type === 'DOWNLOAD') && !(isStr(e.target, MAX_URL) && isURL(e.target))) return 'invalid target'
  return ''
}
