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

/** feedPath builds the URL of a feed page; `start` (ms) begins a run at that time (PROTOCOL §13). */
export function feedPath (base, since, limit, start) {
  const params = new URLSearchParams()
  if (since) params.set('since', since)
  else if (start !== undefined) params.set('start', String(start))
  if (limit) params.set('limit', String(limit))
  const q = params.toString()
  return q ? `${base}?${q}` : base
}

// The end of a page as the server writes it: ..."next":"<cursor>","more":true,"reset":false}
const TAIL = /"next":"([A-Za-z0-9_-]+)","more":(true|false),"reset":(true|false)\}\s*$/

/**
 * prefetchingFetcher returns a fetchPage for runFeed that asks for the next page as soon as
 * the text of a page it was asked for has arrived, before that text is parsed: the cursor of
 * the next page is read from the page's last bytes. A run over many pages then waits for the
 * server while it parses, not after. At most one page is fetched ahead of what runFeed asked
 * for. getText(path) resolves with a page's text; pathOf(since) is its path. A page whose end
 * does not look as expected is parsed first, as without prefetching; a prefetched page is used
 * only for exactly the cursor that the parsed page names.
 */
export function prefetchingFetcher (getText, pathOf) {
  const ahead = new Map() // cursor -> entry of a page fetched ahead
  function start (since) {
    const entry = { wanted: false, next: undefined, promise: null }
    entry.promise = (async () => {
      const text = await getText(pathOf(since))
      const m = TAIL.exec(text.length > 512 ? text.slice(-512) : text)
      if (m && m[2] === 'true' && m[3] === 'false') entry.next = m[1]
      if (entry.wanted) prefetch(entry)
      return text === '' ? null : JSON.parse(text)
    })()
    return entry
  }
  function prefetch (entry) {
    if (entry.next === undefined || ahead.has(entry.next)) return
    const e = start(entry.next)
    e.promise.catch(() => {}) // awaited when runFeed asks for it
    ahead.set(entry.next, e)
  }
  return (since) => {
    let entry = since !== undefined ? ahead.get(since) : undefined
    if (entry) {
      ahead.delete(since)
    } else {
      ahead.clear() // a cursor other than the one guessed: drop the guess
      entry = start(since)
    }
    entry.wanted = true
    prefetch(entry) // when its text is there already; else start() does it
    return entry.promise
  }
}
