// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The app's services reach components through one context: {api, session, router,
// announce, metrics}. Tests render components with their own (fake) services.

import { createContext } from 'preact'
import { useContext, useEffect, useState } from 'preact/hooks'

export const ServicesContext = createContext(null)

/** useServices returns {api, session, router, announce, ...}. */
export function useServices () {
  return useContext(ServicesContext)
}

/** useSession re-renders on session changes and returns the session state. */
export function useSession () {
  const { session } = useServices()
  const [state, setState] = useState(session.state)
  useEffect(() => {
    setState(session.state)
    return session.subscribe(setState)
  }, [session])
  return state
}

/** useAnnounce returns announce(text): a polite live-region message for screen readers. */
export function useAnnounce () {
  return useServices().announce
}
