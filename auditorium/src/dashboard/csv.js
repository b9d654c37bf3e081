// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

/** csvOf writes a header and rows as CSV (RFC 4180); null and undefined are empty cells. */
export function csvOf (head, body) {
  const cell = (v) => {
    const s = v === undefined || v === null ? '' : String(v)
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s
  }
  return [head, ...body].map(r => r.map(cell).join(',')).join('\r\n') + '\r\n'
}
