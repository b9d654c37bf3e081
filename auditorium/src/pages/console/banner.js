// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The banner styles editor: the operator's CSS is checked by the server (dryRun) while
// typing, and the canonical form it returns is applied to a live preview of the vault's
// own banner markup (script/src/vault/banner.js) in a shadow root, through constructed
// style sheets: no <style> element, so the strict CSP holds, and nothing leaks into the
// console's own styles.

import { useEffect, useRef, useState } from 'preact/hooks'
import { html, Alert, Status, useSubmit } from '../auth/ui.js'
import { isApiError } from '../auth/flows.js'
import { useClearedOnNextAction } from './hooks.js'
import { showBanner } from '../../../../script/src/vault/banner.js'

// The classes banner styles may name (server/bannercss.go keeps the same list; a test
// compares them), each with the key of what it is.
export const BANNER_CLASSES = [
  ['offen-banner', 'console.banner.class.banner'],
  ['offen-banner--notice', 'console.banner.class.notice'],
  ['offen-banner__title', 'console.banner.class.title'],
  ['offen-banner__text', 'console.banner.class.text'],
  ['offen-banner__link', 'console.banner.class.link'],
  ['offen-banner__buttons', 'console.banner.class.buttons'],
  ['offen-banner__button', 'console.banner.class.button'],
  ['offen-banner__button--allow', 'console.banner.class.allow'],
  ['offen-banner__button--deny', 'console.banner.class.deny'],
  ['offen-banner__button--close', 'console.banner.class.close']
]

// A starting point that keeps both choices equally prominent.
export const STARTER_CSS = `.offen-banner {
  background-color: #ffffff;
  color: #1b1b1b;
  font-family: system-ui, sans-serif;
  border-radius: 6px;
}
.offen-banner__button--allow, .offen-banner__button--deny {
  background-color: #0b5394;
  color: #ffffff;
  border-radius: 4px;
}
.offen-banner__button:focus-visible {
  outline: 3px solid #b3461a;
}
`

const VAULT_KEYS = ['vault.banner.title', 'vault.banner.text', 'vault.banner.link', 'vault.banner.allow', 'vault.banner.deny']

let baseCss = null
// vaultBaseCss loads the vault's base styles as text (bundled by esbuild; empty where the
// text import is unavailable, as in unbundled tests).
async function vaultBaseCss () {
  if (baseCss === null) {
    try {
      baseCss = (await import('../../../../script/src/vault/vault.css', { with: { type: 'text' } })).default || ''
    } catch {
      baseCss = ''
    }
  }
  return baseCss
}

function sheet (text) {
  if (typeof CSSStyleSheet !== 'function') return null
  try {
    const s = new CSSStyleSheet()
    s.replaceSync(text)
    return s
  } catch {
    return null
  }
}

/**
 * A live preview of the consent banner with the given (validated) CSS. It is a picture,
 * not a control: inert and hidden from assistive technology, its buttons disabled, so it
 * takes no focus and announces nothing; the caption says what it shows.
 */
export function BannerPreview ({ t, css }) {
  const host = useRef(null)
  const root = useRef(null)
  useEffect(() => {
    const el = host.current
    if (!el || !el.attachShadow) return
    root.current = el.shadowRoot || el.attachShadow({ mode: 'open' })
    const strings = {}
    for (const k of VAULT_KEYS) strings[k] = t(k)
    const focused = document.activeElement
    showBanner(document, root.current, strings)
    for (const b of root.current.querySelectorAll('button')) b.disabled = true
    for (const a of root.current.querySelectorAll('a, [tabindex]')) a.setAttribute('tabindex', '-1')
    // showBanner focuses the banner, as the vault should; the preview must not move focus.
    if (focused && focused.focus) focused.focus()
  }, [])
  useEffect(() => {
    let cancelled = false
    vaultBaseCss().then((base) => {
      if (cancelled || !root.current) return
      const sheets = [sheet(base), sheet(css || '')].filter(Boolean)
      try {
        root.current.adoptedStyleSheets = sheets
      } catch {}
    })
    return () => { cancelled = true }
  }, [css])
  return html`<figure class="banner-preview">
    <figcaption class="form-hint">${t('console.banner.preview')}</figcaption>
    <div class="banner-preview__stage" ref=${host} inert=${true} aria-hidden="true" data-testid="banner-preview"></div>
  </figure>`
}

/** Edits an account's banner CSS with server-side validation and the live preview. */
export function BannerStyles ({ app, account, onSaved }) {
  const { t } = app
  const [css, setCss] = useState(account.bannerCss || '')
  const [checked, setChecked] = useState(account.bannerCss || '')
  const [problem, setProblem] = useState(null)
  const [saved, setSaved] = useState(false)
  const timer = useRef(null)
  const card = useRef(null)
  useClearedOnNextAction(card, () => setSaved(false))
  const path = `/api/accounts/${account.accountId}/banner-styles`

  const check = async (text) => {
    try {
      const r = await app.api.request('PUT', path, { css: text, dryRun: true })
      setProblem(null)
      setChecked(r.css)
    } catch (err) {
      if (isApiError(err) && err.status === 400) setProblem((err.fields && err.fields.css) || err.message)
    }
  }
  const edit = (text) => {
    setCss(text)
    setSaved(false)
    clearTimeout(timer.current)
    timer.current = setTimeout(() => check(text), 400)
  }
  const onInput = (e) => edit(e.currentTarget.value)
  useEffect(() => () => clearTimeout(timer.current), [])

  const { busy, error, run } = useSubmit(async () => {
    clearTimeout(timer.current)
    try {
      const r = await app.api.request('PUT', path, { css, dryRun: false })
      setProblem(null)
      setChecked(r.css)
      setCss(r.css)
      setSaved(true)
      if (onSaved) onSaved(r.css)
    } catch (err) {
      if (isApiError(err) && err.status === 400) {
        setProblem((err.fields && err.fields.css) || err.message)
        return
      }
      throw err
    }
  })

  return html`<section class="console-card" aria-labelledby="banner-title" ref=${card}>
    <h3 id="banner-title">${t('console.banner.title')}</h3>
    <p id="banner-explain">${t('console.banner.explain')}</p>
    <details class="banner-classes" data-testid="banner-classes">
      <summary>${t('console.banner.classes')}</summary>
      <dl>${BANNER_CLASSES.map(([name, key]) => html`<div key=${name}><dt><code>.${name}</code></dt><dd>${t(key)}</dd></div>`)}</dl>
      <p class="form-hint">${t('console.banner.classesHint')}</p>
    </details>
    <form class="form" onSubmit=${(e) => { e.preventDefault(); run() }}>
      <${Alert} t=${t} error=${error} />
      <div class="form-field">
        <label for="banner-css">${t('console.banner.css')}</label>
        <textarea id="banner-css" class="input--code" rows="10" spellcheck="false" value=${css} onInput=${onInput}
          aria-invalid=${problem ? 'true' : undefined} aria-describedby=${'banner-explain' + (problem ? ' banner-problem' : '')}></textarea>
        <p class="form-error" id="banner-problem" role="alert">${problem ? t('console.banner.invalid', { reason: problem }) : ''}</p>
      </div>
      <button type="button" class="button" onClick=${() => edit(css.trim() ? css.trimEnd() + '\n\n' + STARTER_CSS : STARTER_CSS)}>${t('console.banner.starter')}</button>
      <button type="submit" class="button button-primary" disabled=${busy || !!problem}>${t('console.banner.save')}</button>
      ${saved && html`<${Status}>${t('console.banner.saved')}<//>`}
    </form>
    <h4>${t('console.banner.previewTitle')}</h4>
    <${BannerPreview} t=${t} css=${checked} />
  </section>`
}
