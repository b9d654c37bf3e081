// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// An account's goal and funnel definitions (keys/PROTOCOL.md §12 "Goals and funnels"):
// sealed under the account's KEK as `a1` with AAD offen/v1/goals|<accountId>, written by
// admins in the console, read by the dashboard; and the plain-text form the console edits.

import { openA1, sealA1 } from '../../../keys/js/crypto.js'
import { normalizeFunnels, normalizeGoals } from '../metrics/aggregate.js'

const aad = (accountId) => 'offen/v1/goals|' + accountId
const EMPTY = Object.freeze({ goals: [], funnels: [] })

/** sealDefinitions returns the `a1` string of {goals, funnels} for PUT /api/accounts/{id}/goals. */
export function sealDefinitions (kek, accountId, { goals, funnels }) {
  const plain = { v: 1, goals: normalizeGoals(goals), funnels: normalizeFunnels(funnels) }
  return sealA1(kek, aad(accountId), new TextEncoder().encode(JSON.stringify(plain)))
}

/**
 * openDefinitions returns {goals, funnels} of the account's sealed string: none for ''
 * and for a string that does not open or parse (a reader drops what it cannot use).
 */
export async function openDefinitions (kek, accountId, sealed) {
  if (!sealed || !kek) return EMPTY
  try {
    const plain = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await openA1(kek, aad(accountId), sealed)))
    if (!plain || plain.v !== 1) return EMPTY
    return { goals: normalizeGoals(plain.goals), funnels: normalizeFunnels(plain.funnels) }
  } catch {
    return EMPTY
  }
}

// A target starting with "/" is a page pattern, anything else a custom event name.
const toStep = (text) => (text.startsWith('/') ? { page: text } : { event: text })
const fromStep = (s) => (s.page !== undefined ? s.page : s.event)

/**
 * parseDefinitions reads the console's two text fields: goals one per line as
 * `Name = target`, funnels one per line as `Name = target > target > …`, where a target
 * starting with "/" is a page pattern (`*` matches anything) and any other an event name.
 * Returns {goals, funnels, errors: {goals: [line numbers], funnels: [line numbers]}}.
 */
export function parseDefinitions (goalsText, funnelsText) {
  const errors = { goals: [], funnels: [] }
  const lines = (text) => String(text || '').split('\n').map((l, i) => [l.trim(), i + 1]).filter(([l]) => l !== '')
  const split = (line) => {
    const i = line.indexOf('=')
    return i < 0 ? [line, ''] : [line.slice(0, i).trim(), line.slice(i + 1).trim()]
  }
  const goals = []
  for (const [line, n] of lines(goalsText)) {
    const [name, target] = split(line)
    const goal = { name, ...toStep(target) }
    if (normalizeGoals([...goals, goal]).length === goals.length + 1) goals.push(goal)
    else errors.goals.push(n)
  }
  const funnels = []
  for (const [line, n] of lines(funnelsText)) {
    const [name, targets] = split(line)
    const funnel = { name, steps: targets.split('>').map((s) => s.trim()).filter(Boolean).map(toStep) }
    if (normalizeFunnels([...funnels, funnel]).length === funnels.length + 1) funnels.push(funnel)
    else errors.funnels.push(n)
  }
  return { goals, funnels, errors }
}

/** formatDefinitions is the inverse of parseDefinitions: {goals, funnels} as the two texts. */
export function formatDefinitions ({ goals, funnels }) {
  return {
    goals: goals.map((g) => `${g.name} = ${fromStep(g)}`).join('\n'),
    funnels: funnels.map((f) => `${f.name} = ${f.steps.map(fromStep).join(' > ')}`).join('\n')
  }
}
