// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The password policy of PROTOCOL §2.2, enforced by the client because the server never
// sees the password: at least MIN_LENGTH characters and a strength estimate of at least
// MIN_SCORE. The estimate is deliberately simple: bits from the character classes used
// and the length, minus what repeats, runs, keyboard rows, common passwords and the
// address's own words give away.

/** Minimum password length in characters (code points). */
export const MIN_LENGTH = 10
/** Minimum accepted score (0 very weak … 4 strong). */
export const MIN_SCORE = 2

const COMMON = [
  'password', 'passwort', 'motdepasse', 'contraseña', 'contrasena', 'senha', 'matkhau',
  'qwerty', 'azerty', 'qwertz', 'letmein', 'welcome', 'admin', 'offen', 'iloveyou',
  'monkey', 'dragon', 'football', 'baseball', 'sunshine', 'princess', 'master', 'secret',
  'abc123', '123456', '654321', '111111', '000000', 'changeme', 'trustno1'
]
const ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'azertyuiop', 'qwertzuiop', '1234567890', 'abcdefghijklmnopqrstuvwxyz']

// runLength counts characters that continue a run of repeats (aaa) or of consecutive
// code points (abc, 321).
function predictable (chars) {
  let n = 0
  for (let i = 2; i < chars.length; i++) {
    const a = chars[i - 2].codePointAt(0)
    const b = chars[i - 1].codePointAt(0)
    const c = chars[i].codePointAt(0)
    if ((a === b && b === c) || (b - a === c - b && Math.abs(c - b) === 1)) n++
  }
  return n
}

/**
 * Estimates a password's strength. `context` holds strings the password should not lean
 * on (the e-mail address, the account name).
 * @param {string} password
 * @param {string[]} [context]
 * @returns {{score: number, bits: number, length: number, ok: boolean, tooShort: boolean}}
 */
export function passwordStrength (password, context = []) {
  const pw = String(password || '').normalize('NFC')
  const chars = Array.from(pw)
  const length = chars.length
  let pool = 0
  if (/[a-z]/.test(pw)) pool += 26
  if (/[A-Z]/.test(pw)) pool += 26
  if (/[0-9]/.test(pw)) pool += 10
  if (/[^A-Za-z0-9]/.test(pw)) pool += /[^\x20-\x7e]/.test(pw) ? 60 : 33
  const perChar = pool > 0 ? Math.log2(pool) : 0
  const distinct = new Set(chars).size
  // Characters that add little: repeats and runs, and the surplus of repeated symbols.
  let weak = predictable(chars) + Math.max(0, length - distinct * 2)
  const lower = pw.toLowerCase()
  const words = COMMON.slice()
  for (const c of context) {
    for (const part of String(c || '').toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
      if (part.length >= 3) words.push(part)
    }
  }
  for (const w of words) {
    if (w.length >= 3 && lower.includes(w)) weak += w.length - 1
  }
  for (const row of ROWS) {
    for (let i = 0; i + 4 <= row.length; i++) {
      const seq = row.slice(i, i + 4)
      if (lower.includes(seq) || lower.includes([...seq].reverse().join(''))) weak += 2
    }
  }
  // A password made of one repeated part is worth that part.
  for (let period = 1; period <= length / 2; period++) {
    if (length % period === 0 && chars.slice(0, period).join('').repeat(length / period) === pw) {
      weak = Math.max(weak, length - period)
      break
    }
  }
  const effective = Math.max(0, length - Math.min(weak, length))
  const bits = Math.round(effective * perChar)
  const score = bits < 30 ? 0 : bits < 45 ? 1 : bits < 60 ? 2 : bits < 80 ? 3 : 4
  const tooShort = length < MIN_LENGTH
  return { score, bits, length, tooShort, ok: !tooShort && score >= MIN_SCORE }
}
