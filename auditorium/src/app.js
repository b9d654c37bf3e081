// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The application shell: providers, landmarks (skip link, banner with navigation, main,
// content info), a polite live region, document titles and focus on navigation.

import { useEffect, useRef } from 'preact/hooks'
import { html } from './lib/html.js'
import { I18nContext, LANGUAGES } from './lib/i18n.js'
import { RouterContext, useRoute } from './lib/router.js'
import { READY } from './lib/session.js'
import { ServicesContext, useServices, useSession } from './lib/services.js'

function NotFound () {
  return null
}

function Header ({ i18n }) {
  const { t } = i18n
  const { session } = useServices()
  const state = useSession()
  const { location } = useRoute()
  const here = (path) => (location.pathname.startsWith(path) ? 'page' : undefined)
  const signedIn = state.status === READY || state.status === 'locked'
  return html`<header class="site-header">
    <div class="bar">
      <a class="brand" href="/">${t('dashboard.brand')}</a>
      <nav aria-label=${t('dashboard.nav.label')}>
        <ul class="nav-list">
          ${signedIn
            ? html`<li><a href="/auditorium/" aria-current=${here('/auditorium/')}>${t('dashboard.nav.dashboard')}</a></li>
                <li><a href="/console/" aria-current=${here('/console/')}>${t('dashboard.nav.console')}</a></li>
                <li><button type="button" class="link-button" onClick=${() => session.logout()}>${t('dashboard.nav.logout')}</button></li>`
            : html`<li><a href="/auditorium/" aria-current=${here('/auditorium/')}>${t('dashboard.nav.auditorium')}</a></li>
                <li><a href="/login/" aria-current=${here('/login/')}>${t('dashboard.nav.login')}</a></li>`}
        </ul>
      </nav>
      <${LanguageSwitch} i18n=${i18n} />
    </div>
  </header>`
}

function LanguageSwitch ({ i18n }) {
  const { location } = useRoute()
  const hrefFor = (lang) => {
    const params = new URLSearchParams(location.search)
    params.set('locale', lang)
    return location.pathname + '?' + params.toString()
  }
  const names = (lang) => {
    try {
      return new Intl.DisplayNames([lang], { type: 'language' }).of(lang)
    } catch {
      return lang
    }
  }
  // A full load switches the catalog; links keep it simple and work without script state.
  return html`<nav class="languages" aria-label=${i18n.t('dashboard.nav.language')}>
    <ul class="nav-list">
      ${LANGUAGES.map(lang => html`<li><a href=${hrefFor(lang)} lang=${lang} hreflang=${lang} data-reload="true"
        aria-current=${lang === i18n.lang ? 'true' : undefined}>${names(lang)}</a></li>`)}
    </ul>
  </nav>`
}

function Shell ({ i18n, live }) {
  const { route } = useRoute()
  const session = useSession()
  // /auditorium/ is the operator's dashboard when signed in, the visitor's own data when not
  const titleKey = route && ((session.status === READY || session.status === 'locked') && route.titleSignedIn ? route.titleSignedIn : route.title)
  const mainRef = useRef(null)
  const first = useRef(true)
  const Page = route ? route.page : NotFound
  useEffect(() => {
    const title = route ? i18n.t(titleKey) : i18n.t('dashboard.notFound')
    document.title = `${title} – ${i18n.t('dashboard.brand')}`
    if (first.current) {
      first.current = false
      return
    }
    if (mainRef.current) mainRef.current.focus()
  }, [route, titleKey, i18n])
  return html`<div class="shell">
    <a class="skip-link" href="#main">${i18n.t('dashboard.skip')}</a>
    <${Header} i18n=${i18n} />
    <main id="main" tabindex="-1" ref=${mainRef}>
      ${route ? html`<${Page} />` : html`<section class="page"><h1>${i18n.t('dashboard.notFound')}</h1></section>`}
    </main>
    <footer class="site-footer">
      <p>${i18n.t('dashboard.footer')}</p>
    </footer>
    <div class="visually-hidden" role="status" aria-live="polite" ref=${live}></div>
  </div>`
}

/**
 * App renders the shell with its providers. services: {api, session, router, ...}; the
 * announce function is added here (it writes into the live region).
 */
export function App ({ i18n, services }) {
  const live = useRef(null)
  const announce = (text) => {
    const el = live.current
    if (!el) return
    el.textContent = ''
    setTimeout(() => { el.textContent = text }, 50)
  }
  return html`<${I18nContext.Provider} value=${i18n}>
    <${RouterContext.Provider} value=${services.router}>
      <${ServicesContext.Provider} value=${{ ...services, announce }}>
        <${Shell} i18n=${i18n} live=${live} />
      <//>
    <//>
  <//>`
}
