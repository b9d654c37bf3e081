// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The smallest ULID at a given time: the bound of a local `before` tombstone (events below it
// are older than the retention) and the largest ULID (a `before` that removes everything).

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** ulidAt returns the smallest ULID whose time is ms. */
export function ulidAt (ms) {
  let t = Math.max(0, Math.floor(ms))
  let out = ''
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out
    t = Math.floor(t / 32)
  }
  return out + '0'.repeat(16)
}

/** MAX_ULID sorts after every ULID. */
export const MAX_ULID = '7' + 'Z'.repeat(25)
