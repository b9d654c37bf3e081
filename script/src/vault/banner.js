// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The consent banner. Class names and ids are a stable contract for operator styles
// (banner.css) and browser tests; see script/README.md.

// English fallbacks for strings missing from the config block (same text as
// locales/vault/en.po).
const EN = {
  'vault.title': 'Offen consent',
  'vault.banner.title': 'Usage statistics',
  'vault.banner.text': 'May this website record your visits with Offen? The data is encrypted in your browser before it is sent, and you can view, export and delete it at any time.',
  'vault.banner.link': 'See your data',
  'vault.banner.allow': 'I allow',
  'vault.banner.deny': "I don't allow",
  'vault.banner.close': 'Close',
  'vault.error.storage': 'Your browser does not let this website store your choice, so no usage data will be collected.',
  'vault.error.crossSite': 'Your browser does not let this website store your choice, so no usage data will be collected: this page ({page}) and Offen ({offen}) are different sites to the browser. The site owner can fix this by serving Offen from the same site, for example offen.example.org for www.example.org, or by using the same host name for both when testing.'
}

const el = (doc, tag, attrs, text) => {
  const node = doc.createElement(tag)
  for (const k in attrs) node.setAttribute(k, attrs[k])
  if (text) node.textContent = text
  return node
}

// translate returns the string for key from strings, falling back to English.
export const translate = (strings, k) => (strings && typeof strings[k] === 'string' && strings[k]) || EN[k] || k

// showBanner renders the banner into root and resolves with 'allow' or 'deny' once the
// visitor chose; strings maps vault keys to translations.
export function showBanner (doc, root, strings) {
  const t = (k) => translate(strings, k)
  return new Promise((resolve) => {
    const banner = el(doc, 'div', {
      id: 'offen-banner',
      class: 'offen-banner',
      role: 'dialog',
      'aria-modal': 'false',
      'aria-labelledby': 'offen-banner-title',
      'aria-describedby': 'offen-banner-text',
      tabindex: '-1',
      'data-testid': 'offen-banner'
    })
    banner.append(el(doc, 'p', { id: 'offen-banner-title', class: 'offen-banner__title' }, t('vault.banner.title')))
    const text = el(doc, 'p', { id: 'offen-banner-text', class: 'offen-banner__text' }, t('vault.banner.text') + ' ')
    text.append(el(doc, 'a', { class: 'offen-banner__link', href: '/auditorium/', target: '_blank', rel: 'noopener' }, t('vault.banner.link')))
    banner.append(text)
    const buttons = el(doc, 'div', { class: 'offen-banner__buttons' })
    for (const choice of ['allow', 'deny']) {
      const b = el(doc, 'button', {
        type: 'button',
        id: 'offen-banner-' + choice,
        class: 'offen-banner__button offen-banner__button--' + choice,
        'data-testid': 'offen-' + choice
      }, t('vault.banner.' + choice))
      b.addEventListener('click', () => resolve(choice))
      buttons.append(b)
    }
    banner.append(buttons)
    root.replaceChildren(banner)
    try {
      banner.focus({ preventScroll: true })
    } catch {}
  })
}

// showNotice replaces the banner with an announced message and a close button; resolves
// when closed. params fill the {name} placeholders of the message.
export function showNotice (doc, root, strings, key, params = {}) {
  const t = (k) => translate(strings, k).replace(/\{(\w+)\}/g, (m, name) => name in params ? params[name] : m)
  return new Promise((resolve) => {
    const box = el(doc, 'div', { id: 'offen-notice', class: 'offen-banner offen-banner--notice', role: 'alert', 'data-testid': 'offen-notice' })
    box.append(el(doc, 'p', { class: 'offen-banner__text' }, t(key)))
    const close = el(doc, 'button', { type: 'button', id: 'offen-notice-close', class: 'offen-banner__button offen-banner__button--close' }, t('vault.banner.close'))
    close.addEventListener('click', () => resolve())
    box.append(close)
    root.replaceChildren(box)
    try {
      close.focus({ preventScroll: true })
    } catch {}
  })
}

// hideBanner empties root.
export function hideBanner (root) {
  root.replaceChildren()
}
