// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Hooks shared by the console's cards.

import { useEffect } from 'preact/hooks'

/**
 * useClearedOnNextAction calls clear when a form outside ref's element is submitted: a
 * confirmation ("account created", "saved") is about the last action, and must not stay
 * on screen beside the result of a later one.
 */
export function useClearedOnNextAction (ref, clear) {
  useEffect(() => {
    const submitted = (e) => {
      if (!ref.current || !ref.current.contains(e.target)) clear()
    }
    document.addEventListener('submit', submitted, true)
    return () => document.removeEventListener('submit', submitted, true)
  }, [])
}
