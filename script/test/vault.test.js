// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createVault, readConfig } from '../src/vault/vault.js'
import { checkMessage, checkSender } from '../src/vault/messages.js'
import { consentCookie, readConsent } from '../src/vault/consent.js'
import { sameSite, siteOf } from '../src/vault/site.js'
import { FakeDocument, messageEvent, waitFor } from './fakes.js'

const accountId = '9b63c4d8-3a6c-4e8e-9a55-2f1d7c0e5b11'
const origin = 'https://www.example.org'
const parent = { name: 'parent window' }
const event = { type: 'PAGEVIEW', href: 'https://www.example.org/a', referrer: '', pageload: 120 }
const eventMsg = (extra = {}) => ({ v: 1, type: 'EVENT', accountId, event, ...extra })

function setup ({ allowedOrigins = [origin], consent, supported = true, blockCookies = false, vaultOrigin = '' } = {}) {
  const doc = new FakeDocument({ blockCookies })
  if (consent) doc.jar.set('consent', consent)
  const root = doc.createElement('div')
  const queued = []
  let flushes = 0
  const sender = { queue: async (p) => { queued.push(p) }, flush: () => { flushes++ } }
  const vault = createVault({
    parent,
    doc,
    root,
    config: { accountId, allowedOrigins, strings: { 'vault.banner.allow': 'Ich erlaube' }, secureContext: true },
    supported,
    sender,
    context: () => ({ sessionId: 'f'.repeat(32), timeZone: 'Europe/Berlin', mobile: false }),
    measure: () => 120,
    origin: vaultOrigin
  })
  const send = (data, opts = {}) => {
    const m = messageEvent({ data, origin: opts.origin || origin, source: 'source' in opts ? opts.source : parent })
    vault.handle(m.event)
    return m
  }
  return { doc, root, queued, vault, send, flushes: () => flushes }
}

test('checkSender', () => {
  assert.equal(checkSender({ source: parent, origin }, parent, [origin]), '')
  assert.equal(checkSender({ source: parent, origin: 'https://evil.test' }, parent, []), '', 'empty list allows any origin')
  assert.equal(checkSender({ source: {}, origin }, parent, [origin]), 'invalid source')
  assert.equal(checkSender({ source: null, origin }, null, []), 'invalid source', 'top-level vault has no parent')
  assert.equal(checkSender({ source: parent, origin: 'https://evil.test' }, parent, [origin]), 'origin not allowed')
})

test('checkMessage', () => {
  const bad = {
    'no object': null,
    'wrong version': { ...eventMsg(), v: 2 },
    'unknown type': { ...eventMsg(), type: 'HACK' },
    'other account': { ...eventMsg(), accountId: 'other' },
    'missing event': { v: 1, type: 'EVENT', accountId },
    'bad event type': eventMsg({ event: { ...event, type: 'page view' } }),
    'javascript href': eventMsg({ event: { ...event, href: 'javascript:alert(1)' } }),
    'long href': eventMsg({ event: { ...event, href: 'https://x.org/' + 'a'.repeat(2048) } }),
    'numeric referrer': eventMsg({ event: { ...event, referrer: 1 } }),
    'negative pageload': eventMsg({ event: { ...event, pageload: -1 } }),
    'fractional pageload': eventMsg({ event: { ...event, pageload: 1.5 } }),
    'string skipConsent': eventMsg({ skipConsent: 'yes' }),
    'bad rawHref': eventMsg({ event: { ...event, rawHref: 'data:x' } }),
    'unknown event type': eventMsg({ event: { ...event, type: 'CLICK' } }),
    'event without name': eventMsg({ event: { ...event, type: 'EVENT' } }),
    'empty event name': eventMsg({ event: { ...event, type: 'EVENT', name: '' } }),
    'long event name': eventMsg({ event: { ...event, type: 'EVENT', name: 'n'.repeat(65) } }),
    'outbound without target': eventMsg({ event: { ...event, type: 'OUTBOUND' } }),
    'download to a data URL': eventMsg({ event: { ...event, type: 'DOWNLOAD', target: 'data:text/plain,x' } })
  }
  for (const [name, msg] of Object.entries(bad)) assert.notEqual(checkMessage(msg, accountId), '', name)
  assert.equal(checkMessage(eventMsg(), accountId), '')
  assert.equal(checkMessage(eventMsg({ event: { ...event, pageload: null, rawHref: 'https://www.example.org/a#x' } }), accountId), '')
  assert.equal(checkMessage({ v: 1, type: 'CONSENT', accountId }, accountId), '')
  assert.equal(checkMessage(eventMsg({ event: { ...event, type: 'EVENT', name: 'n'.repeat(64), props: { a: 1 } } }), accountId), '')
  assert.equal(checkMessage(eventMsg({ event: { ...event, type: 'OUTBOUND', target: 'https://other.test/x' } }), accountId), '')
})

test('invalid messages get ERROR and change nothing', async () => {
  const cases = {
    'wrong source': [eventMsg(), { source: {} }],
    'wrong origin': [eventMsg(), { origin: 'https://evil.test' }],
    'wrong account': [{ ...eventMsg(), accountId: 'x' }, {}],
    'bad schema': [eventMsg({ event: { ...event, href: 42 } }), {}]
  }
  for (const [name, [data, opts]] of Object.entries(cases)) {
    const v = setup({ consent: 'allow' })
    const m = v.send(data, opts)
    const reply = await m.finished
    assert.equal(reply.type, 'ERROR', name)
    assert.deepEqual(m.replies, [reply], name + ': no LAYOUT')
    assert.equal(v.queued.length, 0, name)
    assert.equal(v.doc.cookieWrites.length, 0, name)
    assert.equal(v.root.children.length, 0, name + ': banner shown')
  }
})

test('unsupported browser: ERROR, no banner', async () => {
  const v = setup({ supported: false })
  const m = v.send(eventMsg())
  assert.deepEqual(await m.finished, { type: 'ERROR', error: 'unsupported' })
  assert.equal(v.root.children.length, 0)
})

test('consent allow: events are enriched and queued without a banner', async () => {
  const v = setup({ consent: 'allow' })
  assert.deepEqual(await v.send(eventMsg()).finished, { type: 'DONE' })
  assert.equal(v.queued.length, 1)
  const p = v.queued[0]
  assert.equal(p.href, event.href)
  assert.equal(p.geo, 'DE')
  assert.equal(p.sessionId, 'f'.repeat(32))
  assert.equal(p.v, 1)
  assert.ok(!Number.isNaN(Date.parse(p.timestamp)))
  assert.equal(v.flushes(), 1)
  assert.equal(v.root.children.length, 0)
})

test('consent deny: nothing is queued or shown', async () => {
  const v = setup({ consent: 'deny' })
  assert.equal((await v.send(eventMsg()).finished).type, 'DONE')
  assert.equal((await v.send({ v: 1, type: 'CONSENT', accountId }).finished).type, 'DONE')
  assert.equal(v.queued.length, 0)
  assert.equal(v.flushes(), 0)
  assert.equal(v.root.children.length, 0)
})

test('undecided with skipConsent: dropped silently', async () => {
  const v = setup()
  assert.equal((await v.send(eventMsg({ skipConsent: true })).finished).type, 'DONE')
  assert.equal(v.queued.length, 0)
  assert.equal(v.root.children.length, 0)
})

test('undecided: banner shown, events held, allow sends them', async () => {
  const v = setup()
  const a = v.send(eventMsg())
  const b = v.send(eventMsg())
  await waitFor(() => v.root.byId('offen-banner-allow'), 'banner')
  await waitFor(() => a.replies.length && b.replies.length, 'LAYOUT')
  assert.deepEqual(a.replies[0], { type: 'LAYOUT', visible: true, height: 120 })
  const banner = v.root.byId('offen-banner')
  assert.equal(banner.getAttribute('role'), 'dialog')
  assert.equal(banner.getAttribute('aria-labelledby'), 'offen-banner-title')
  assert.ok(v.root.byId('offen-banner-title').text())
  assert.equal(v.doc.activeElement, banner, 'focus moves to the banner')
  assert.equal(v.root.byId('offen-banner-allow').text(), 'Ich erlaube', 'translated string')
  assert.equal(v.root.byId('offen-banner-deny').text(), "I don't allow", 'English fallback')
  assert.equal(v.root.find((e) => e.tagName === 'A').getAttribute('href'), '/auditorium/')
  assert.equal(v.queued.length, 0, 'queued before the decision')

  v.root.byId('offen-banner-allow').click()
  assert.deepEqual(await a.finished, { type: 'DONE' })
  await b.finished
  assert.deepEqual(a.replies.at(-2), { type: 'LAYOUT', visible: false, height: 0 })
  assert.equal(v.queued.length, 2)
  assert.equal(readConsent(v.doc), 'allow')
  assert.deepEqual(v.doc.cookieWrites, ['consent=allow; Path=/; Max-Age=34560000; Secure; SameSite=None'])
  assert.equal(v.root.children.length, 0)
})

test('undecided: deny drops held events and stores the decision', async () => {
  const v = setup()
  const a = v.send(eventMsg())
  await waitFor(() => v.root.byId('offen-banner-deny'), 'banner')
  v.root.byId('offen-banner-deny').click()
  assert.equal((await a.finished).type, 'DONE')
  assert.equal(v.queued.length, 0)
  assert.equal(readConsent(v.doc), 'deny')
  assert.equal(v.flushes(), 0)
})

test('CONSENT shows the banner only when undecided', async () => {
  const v = setup()
  const c = v.send({ v: 1, type: 'CONSENT', accountId })
  await waitFor(() => v.root.byId('offen-banner-allow'), 'banner')
  v.root.byId('offen-banner-allow').click()
  assert.equal((await c.finished).type, 'DONE')
  assert.equal(v.queued.length, 0, 'CONSENT carries no event')
  const again = v.send({ v: 1, type: 'CONSENT', accountId })
  assert.deepEqual(again.replies, [])
  assert.equal((await again.finished).type, 'DONE')
  assert.equal(v.root.children.length, 0)
})

test('allow while the browser blocks cookies: notice, nothing queued', async () => {
  const v = setup({ blockCookies: true })
  const a = v.send(eventMsg())
  await waitFor(() => v.root.byId('offen-banner-allow'), 'banner')
  v.root.byId('offen-banner-allow').click()
  await waitFor(() => v.root.byId('offen-notice-close'), 'notice')
  assert.equal(v.root.byId('offen-notice').getAttribute('role'), 'alert')
  v.root.byId('offen-notice-close').click()
  assert.equal((await a.finished).type, 'DONE')
  assert.equal(v.queued.length, 0)
})

test('a decision blocked in a cross-site frame says why', async () => {
  for (const [vaultOrigin, page, key] of [
    ['http://localhost:3000', 'http://127.0.0.1:8800', 'crossSite'],
    ['https://offen.example.net', origin, 'crossSite'],
    ['https://offen.example.org', origin, 'storage'],
    ['', origin, 'storage']
  ]) {
    const v = setup({ blockCookies: true, vaultOrigin, allowedOrigins: [] })
    const a = v.send(eventMsg(), { origin: page })
    await waitFor(() => v.root.byId('offen-banner-allow'), 'banner')
    v.root.byId('offen-banner-allow').click()
    await waitFor(() => v.root.byId('offen-notice'), 'notice')
    const text = v.root.byId('offen-notice').text()
    if (key === 'crossSite') {
      assert.match(text, /different sites/, vaultOrigin)
      assert.ok(text.includes(`(${page})`) && text.includes(`(${vaultOrigin})`), text)
    } else {
      assert.doesNotMatch(text, /different sites/, vaultOrigin)
    }
    v.root.byId('offen-notice-close').click()
    await a.finished
  }
})

test('siteOf and sameSite', () => {
  assert.equal(siteOf('https://www.example.org'), 'https://example.org')
  assert.equal(siteOf('https://a.b.example.co.uk:8443'), 'https://example.co.uk')
  assert.equal(siteOf('http://localhost:3000'), 'http://localhost')
  assert.equal(siteOf('http://127.0.0.1:8800'), 'http://127.0.0.1')
  assert.equal(siteOf('not a url'), '')
  assert.ok(sameSite('http://localhost:8800', 'http://localhost:3000'))
  assert.ok(sameSite('https://www.example.org', 'https://offen.example.org'))
  assert.ok(!sameSite('http://127.0.0.1:8800', 'http://localhost:3000'))
  assert.ok(!sameSite('http://www.example.org', 'https://offen.example.org'), 'schemeful')
  assert.ok(!sameSite('', ''))
})

test('consent cookie attributes', () => {
  assert.equal(consentCookie('deny', false), 'consent=deny; Path=/; Max-Age=34560000; SameSite=Lax')
  assert.equal(consentCookie('allow', true), 'consent=allow; Path=/; Max-Age=34560000; Secure; SameSite=None')
  const doc = new FakeDocument()
  doc.jar.set('consentx', 'allow')
  assert.equal(readConsent(doc), null)
  doc.jar.set('consent', 'maybe')
  assert.equal(readConsent(doc), null)
})

test('readConfig', () => {
  const doc = (text) => ({ getElementById: (id) => id === 'offen-vault-config' ? { textContent: text } : null })
  assert.equal(readConfig(doc('nope')), null)
  assert.equal(readConfig({ getElementById: () => null }), null)
  assert.equal(readConfig(doc('{"allowedOrigins":[]}')), null)
  assert.deepEqual(readConfig(doc(JSON.stringify({ accountId, allowedOrigins: [origin, 3], locale: 'de', strings: { a: 'b' }, secureContext: true, retentionDays: 186 }))),
    { accountId, allowedOrigins: [origin], locale: 'de', strings: { a: 'b' }, secureContext: true, retentionDays: 186 })
})
