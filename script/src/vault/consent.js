// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The consent cookie (PROTOCOL §3.1), readable and writable by the vault and the auditorium.

export const ALLOW = 'allow'
export const DENY = 'deny'
const MAX_AGE = 400 * 24 * 60 * 60

// readConsent returns 'allow', 'deny' or null (undecided or unreadable).
export function readConsent (doc) {
  let cookies = ''
  try {
    cookies = doc.cookie || ''
  } catch {}
  const m = /(?:^|;\s*)consent=(allow|deny)(?:;|$)/.exec(cookies)
  return m ? m[1] : null
}

// consentCookie builds the Set-Cookie string for a decision.
export function consentCookie (value, secureContext) {
  return `consent=${value}; Path=/; Max-Age=${MAX_AGE}; ` + (secureContext ? 'Secure; SameSite=None' : 'SameSite=Lax')
}

// writeConsent stores the decision and reports whether the browser kept it (it may not,
// for example when it blocks cookies in this frame).
export function writeConsent (doc, value, secureContext) {
  try {
    doc.cookie = consentCookie(value, secureContext)
  } catch {}
  return readConsent(doc) === value
}
