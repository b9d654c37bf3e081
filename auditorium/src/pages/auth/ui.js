// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Small form pieces shared by the auth and console pages: labelled fields, announced
// errors, the password strength meter, the recovery code confirmation and the mapping of
// errors to message keys. Every text comes from the i18n helper `t` the page receives.

import { useEffect, useRef, useState } from 'preact/hooks'
import { html } from '../../lib/html.js'
import { CryptoError } from '../../../../keys/js/crypto.js'
import { isApiError, FlowError } from './flows.js'
import { passwordStrength, MIN_LENGTH } from './password.js'

export { html }

/**
 * Maps an error to `[key, args]` for `t`. `overrides` maps HTTP statuses to keys for the
 * caller's context (a 401 at login means wrong credentials, elsewhere a wrong password).
 */
export function errorMessage (err, overrides = {}) {
  if (isApiError(err)) {
    if (err.status === 0) return ['auth.error.network', {}]
    if (err.status === 429) return ['auth.error.throttled', { seconds: String(Math.max(1, err.retryAfter || 1)) }]
    if (overrides[err.status]) return [overrides[err.status], {}]
    if (err.status === 401) return ['auth.error.signedOut', {}]
    if (err.status === 404) return ['auth.error.notFound', {}]
    if (err.status === 400) return ['auth.error.invalid', {}]
    if (err.status >= 500) return ['auth.error.server', {}]
    return ['auth.error.generic', {}]
  }
  if (err instanceof FlowError) return ['auth.error.' + err.code, {}]
  if (err instanceof CryptoError) return [err.code === 'WEAK_KDF' ? 'auth.error.weakKdf' : 'auth.error.crypto', {}]
  if (err instanceof TypeError) return ['auth.error.network', {}]
  return ['auth.error.generic', {}]
}

/**
 * useSubmit wraps an async action: `busy`, `error` ([key, args] or null) and `run(...)`,
 * which clears the error, runs the action and maps a failure with errorMessage.
 */
export function useSubmit (action, overrides) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(null)
  const mounted = useRef(true)
  useEffect(() => () => { mounted.current = false }, [])
  const run = async (...args) => {
    setBusy(true)
    setError(null)
    try {
      return await action(...args)
    } catch (err) {
      if (mounted.current) setError(errorMessage(err, overrides))
      return undefined
    } finally {
      if (mounted.current) setBusy(false)
    }
  }
  return { busy, error, setError, run }
}

/** An announced error message (role=alert); renders nothing without an error. */
export function Alert ({ t, error, id }) {
  if (!error) return null
  const [key, args] = error
  return html`<p class="form-alert" role="alert" id=${id}>${t(key, args)}</p>`
}

/** A polite status line (aria-live), for results that are not errors. */
export function Status ({ children, id }) {
  return html`<p class="form-status" role="status" aria-live="polite" id=${id}>${children}</p>`
}

/** A heading that takes focus when it mounts, so screen readers follow a step change. */
export function StepHeading ({ children, level = 1, id }) {
  const ref = useRef(null)
  useEffect(() => {
    if (ref.current) ref.current.focus()
  }, [])
  const tag = 'h' + level
  return html`<${tag} ref=${ref} tabindex="-1" id=${id} class="step-heading">${children}</${tag}>`
}

/** A labelled input. `error` is a message key shown under the field and linked by aria-describedby. */
export function Field ({ t, id, label, type = 'text', value, onInput, autocomplete, required = true, hint, error, inputmode, spellcheck, minlength }) {
  const described = [hint ? id + '-hint' : null, error ? id + '-error' : null].filter(Boolean).join(' ') || undefined
  return html`<div class="form-field">
    <label for=${id}>${label}</label>
    <input id=${id} name=${id} type=${type} value=${value} required=${required}
      autocomplete=${autocomplete} inputmode=${inputmode} spellcheck=${spellcheck} minlength=${minlength}
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${described}
      onInput=${(e) => onInput(e.currentTarget.value)} />
    ${hint && html`<p class="form-hint" id=${id + '-hint'}>${hint}</p>`}
    ${error && html`<p class="form-error" id=${id + '-error'}>${t(error)}</p>`}
  </div>`
}

/**
 * A new password with its confirmation and a strength meter. `onChange` is a state setter
 * for `{password, confirm}` and gets an updater function, so two fields filled in one go
 * (as password managers do) both stick; `checkPassword` tells whether the pair may be used.
 */
export function NewPassword ({ t, idPrefix = 'new-password', value, onChange, context = [], errors = {} }) {
  const s = passwordStrength(value.password, context)
  const meterId = idPrefix + '-strength'
  return html`<div class="new-password">
    <${Field} t=${t} id=${idPrefix} type="password" autocomplete="new-password" minlength=${MIN_LENGTH}
      label=${t('auth.password.new')} value=${value.password}
      hint=${t('auth.password.policy', { min: String(MIN_LENGTH) })}
      error=${errors.password}
      onInput=${(password) => onChange((v) => ({ ...v, password }))} />
    <p class="strength" id=${meterId} aria-live="polite">
      <span class=${'strength__bar strength__bar--' + (value.password ? s.score : 'none')}></span>
      <span class="strength__text">${value.password ? t('auth.password.strength', { level: t('auth.password.level.' + s.score) }) : ''}</span>
    </p>
    <${Field} t=${t} id=${idPrefix + '-confirm'} type="password" autocomplete="new-password"
      label=${t('auth.password.confirm')} value=${value.confirm} error=${errors.confirm}
      onInput=${(confirm) => onChange((v) => ({ ...v, confirm }))} />
  </div>`
}

/** Checks a new password pair; returns field errors (message keys) or null when fine. */
export function checkPassword ({ password, confirm }, context = []) {
  const s = passwordStrength(password, context)
  const errors = {}
  if (s.tooShort) errors.password = 'auth.password.tooShort'
  else if (!s.ok) errors.password = 'auth.password.tooWeak'
  if (password !== confirm) errors.confirm = 'auth.password.mismatch'
  return Object.keys(errors).length ? errors : null
}

/** A plausible e-mail address (the server checks it for real). */
export const looksLikeEmail = (s) => /^[^\s@]+@[^\s@]+$/.test(String(s).trim())

/** Copies text to the clipboard; shows "copied" in a polite status. */
export function CopyButton ({ t, text, label }) {
  const [done, setDone] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text)
      setDone(true)
    } catch {
      setDone(false)
    }
  }
  return html`<span class="copy">
    <button type="button" class="button" onClick=${copy}>${label || t('auth.copy')}</button>
    <span role="status" aria-live="polite" class="copy__status">${done ? t('auth.copied') : ''}</span>
  </span>`
}

/**
 * Shows a recovery code once and asks the operator to confirm they stored it before
 * going on (onDone).
 */
export function RecoveryCode ({ t, code, onDone, headingLevel = 1 }) {
  const [stored, setStored] = useState(false)
  return html`<section class="recovery" aria-labelledby="recovery-heading">
    <${StepHeading} level=${headingLevel} id="recovery-heading">${t('auth.recovery.title')}<//>
    <p>${t('auth.recovery.explain')}</p>
    <p class="recovery__code"><code data-testid="recovery-code">${code}</code></p>
    <${CopyButton} t=${t} text=${code} />
    <form onSubmit=${(e) => { e.preventDefault(); if (stored) onDone() }}>
      <div class="form-check">
        <input type="checkbox" id="recovery-stored" checked=${stored} onChange=${(e) => setStored(e.currentTarget.checked)} />
        <label for="recovery-stored">${t('auth.recovery.stored')}</label>
      </div>
      <button type="submit" class="button button-primary" disabled=${!stored}>${t('auth.recovery.continue')}</button>
    </form>
  </section>`
}

/** Reads the URL fragment without its "#". */
export const fragment = (loc = globalThis.location) => decodeURIComponent(((loc && loc.hash) || '').replace(/^#/, ''))
