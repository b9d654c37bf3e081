// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Whether two origins are the same site to the browser (scheme and registrable domain),
// to tell the visitor why a decision could not be stored. The vault ships no public
// suffix list: the registrable domain is guessed as the last two labels, or three under
// a short second-level label of a country domain (co.uk, com.au). A wrong guess only
// picks the general message instead of the cross-site one.

const ip = /^(\d+\.){3}\d+$|:/

// siteOf returns scheme://registrable-domain of an origin, or '' when it is not one.
export function siteOf (origin) {
  let u
  try {
    u = new URL(origin)
  } catch {
    return ''
  }
  const host = u.hostname
  const labels = host.split('.')
  const n = labels.length
  if (ip.test(host) || n <= 2) return u.protocol + '//' + host
  const keep = labels[n - 1].length === 2 && labels[n - 2].length <= 3 ? 3 : 2
  return u.protocol + '//' + labels.slice(-keep).join('.')
}

export const sameSite = (a, b) => siteOf(a) !== '' && siteOf(a) === siteOf(b)
