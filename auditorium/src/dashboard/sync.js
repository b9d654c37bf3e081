// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Incremental sync of one feed (PROTOCOL §6). A run reads pages from the stored cursor until
// `more` is false. The client rules: a page with `reset` first clears the feed's cache;
// every page is stored idempotently, its events before its tombstones; `next` is persisted
// only after the page is stored, so a crash re-reads a page instead of skipping it. The next
// page is requested while the current one is being stored.

/**
 * runFeed runs one sync run and resolves with {pages, events, tombstones, secrets, reset}.
 *   fetchPage(since)   GET of the feed with `since` (undefined: from the beginning)
 *   loadCursor()       the persisted cursor (undefined when none)
 *   saveCursor(next)   persists `next`
 *   clear()            drops the feed's cached items and cursor (on `reset`)
 *   store(page)        stores the page's items: events first, then tombstones
 *   signal             optional AbortSignal; the run stops before the next page
 */
export async function runFeed ({ fetchPage, loadCursor, saveCursor, clear, store, signal }) {
  const totals = { pages: 0, events: 0, tombstones: 0, secrets: 0, reset: false }
  let since = await loadCursor()
  let pending = fetchPage(since)
  for (;;) {
    const page = await pending
    if (signal && signal.aborted) break
    if (page.reset) {
      await clear()
      totals.reset = true
    }
    pending = page.more && page.next ? fetchPage(page.next) : null
    if (pending) pending.catch(() => {}) // awaited in the next turn; avoid an unhandled rejection meanwhile
    await store(page)
    if (page.next) await saveCursor(page.next)
    totals.pages++
    totals.events += (page.events || []).length
    totals.tombstones += (page.tombstones || []).length
    totals.secrets += (page.secrets || []).length
    if (!pending) break
    since = page.next
  }
  return totals
}

/** feedPath builds the URL of a feed page. */
export function feedPath (base, since, limit) {
  const params = new URLSearchParams()
  if (since) params.set('since', since)
  if (limit) params.set('limit', String(limit))
  const q = params.toString()
  return q ? `${base}?${q}` : base
}
