// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The countries panel's map: sessions per country as five shades, drawn from the map that
// build.mjs projects (world-atlas, Natural Earth) and that is fetched only when a countries
// panel has rows. The table below the map is its equivalent (and the way in for keyboards):
// the map itself is one image with a name, each country with a pointer tooltip, and a click
// on a country filters like a click on its row.

import { useEffect, useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { useI18n } from '../lib/i18n.js'
import { useServices } from '../lib/services.js'

/* global __OFFEN_WORLD_MAP__ */
const MAP_URL = typeof __OFFEN_WORLD_MAP__ === 'string' ? __OFFEN_WORLD_MAP__ : null
let shared = null

// fetchWorldMap loads the map once per page (null where there is none, e.g. in tests).
function fetchWorldMap () {
  if (!MAP_URL) return Promise.resolve(null)
  if (!shared) {
    shared = fetch(MAP_URL, { credentials: 'same-origin' }).then(r => (r.ok ? r.json() : null)).catch(() => null)
    shared.then(m => { if (!m) shared = null })
  }
  return shared
}

/** shadeOf maps a count to one of five shades (1..5) of max; 0 for none. */
export function shadeOf (count, max) {
  if (!(count > 0) || !(max > 0)) return 0
  return Math.min(5, Math.max(1, Math.ceil((count / max) * 5)))
}

export function CountryMap ({ rows, onFilter }) {
  const i18n = useI18n()
  const { t, tn } = i18n
  const services = useServices()
  const [map, setMap] = useState(null)
  useEffect(() => {
    let live = true
    ;(services.loadWorldMap || fetchWorldMap)().then(m => { if (live) setMap(m) })
    return () => { live = false }
  }, [])
  if (!map || rows.length === 0) return null
  const counts = new Map(rows.map(r => [String(r.key).toUpperCase(), r.sessions]))
  const max = Math.max(...rows.map(r => r.sessions))
  return html`<figure class="world">
    <svg class="world-map" viewBox=${`0 0 ${map.width} ${map.height}`} role="img" aria-label=${t('dashboard.map.label')}>
      ${map.countries.map(([code, d]) => {
        const n = counts.get(code) || 0
        const shade = shadeOf(n, max)
        return html`<path d=${d} class=${'country shade-' + shade} data-country=${code}
          onClick=${n > 0 && onFilter ? () => onFilter('country', code) : undefined}>
          <title>${n > 0 ? `${i18n.country(code)}: ${tn('dashboard.map.sessions', n)}` : i18n.country(code)}</title>
        </path>`
      })}
    </svg>
    <figcaption class="muted">${t('dashboard.map.caption')}</figcaption>
  </figure>`
}
