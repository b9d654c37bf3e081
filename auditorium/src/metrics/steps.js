// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Goals and funnel steps (README.md "Events, goals, funnels, devices"): a step is reached by
// a page view whose page matches a path pattern, or by a custom event of a given name.

import { pathMatcher } from './normalize.js'

/** KIND numbers the event types in the store's `kind` column. */
export const KIND = { PAGEVIEW: 0, EVENT: 1, OUTBOUND: 2, DOWNLOAD: 3 }

/**
 * stepTest returns (kind, pageKey, name) -> boolean for a step {page} or {event}: a page
 * step matches page views, an event step custom events of that name.
 */
export function stepTest (step) {
  if (step.page !== undefined) {
    const match = pathMatcher(step.page)
    return (kind, page) => kind === KIND.PAGEVIEW && match(page)
  }
  return (kind, page, name) => kind === KIND.EVENT && name === step.event
}

/**
 * funnelProgress returns how many steps of a funnel (tests from stepTest) the rows of a
 * session reach, in order: each step must come after the one before it (greedy, the
 * earliest match of each step). rows yields [kind, pageKey, name] in session order.
 */
export function funnelProgress (tests, rows) {
  let k = 0
  for (const [kind, page, name] of rows) {
    if (tests[k](kind, page, name) && ++k === tests.length) break
  }
  return k
}
