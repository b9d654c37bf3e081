// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// The sign-in pages and the console rendered in happy-dom: validation, announced errors,
// the recovery code step, and the flows end to end against the in-memory API.

import { test, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { installDom, settle, waitFor, englishCatalog, makeT, type, submit, IDBFactory } from './harness.js'
import { createFakeApi } from './fake-api.js'

installDom()
const { render } = await import('preact')
const { html } = await import('../../src/pages/auth/ui.js')
const { LoginPage } = await import('../../src/pages/auth/login.js')
const { SetupPage } = await import('../../src/pages/auth/setup.js')
const { ForgotPage } = await import('../../src/pages/auth/forgot.js')
const { ResetPage } = await import('../../src/pages/auth/reset.js')
const { JoinPage } = await import('../../src/pages/auth/join.js')
const { ConsolePage } = await import('../../src/pages/console/console.js')
const { sessionKeys } = await import('../../src/pages/auth/shell.js')
const { createSession } = await import('../../src/lib/session.js')
const { createApi } = await import('../../src/lib/api.js')
const flows = await import('../../src/pages/auth/flows.js')
const { createStorage } = await import('../../../script/src/storage.js')

const en = await englishCatalog()
const t = makeT(en)
const PASSWORD = 'correct horse battery staple'
const EMAIL = 'admin@example.org'

let root
beforeEach(() => {
  root = document.getElementById('app')
  render(null, root)
})

function makeApp (fake = createFakeApi()) {
  const factory = new IDBFactory()
  let session = null
  const api = createApi({ fetch: fake.fetch, onUnauthorized: () => session && session.forget() })
  session = createSession({ api, factory })
  const app = {
    t,
    lang: 'en',
    origin: 'http://offen.test',
    api,
    keys: sessionKeys(session),
    factory,
    navigations: [],
    navigate: (path) => app.navigations.push(path)
  }
  return app
}

const loc = (hash) => ({ hash: hash ? '#' + hash : '' })
const $ = (sel) => root.querySelector(sel)
const alertText = () => [...root.querySelectorAll('[role="alert"]')].map((e) => e.textContent).join(' ').trim()
const noKeys = () => assert.doesNotMatch(root.textContent, /\b(auth|console|vault)\.[a-z]+\.[a-zA-Z]/, 'no untranslated key')

async function setUpInstance () {
  const fake = createFakeApi()
  const r = await flows.setup(fake, { setupToken: 'setup-token', email: EMAIL, password: PASSWORD, accountName: 'example.org' })
  fake.session = null
  return { fake, r, accountId: r.state.grants[0].accountId }
}

test('login: wrong password and throttling are announced; success stores the wrap key', async () => {
  const { fake, r } = await setUpInstance()
  const app = makeApp(fake)
  render(html`<${LoginPage} app=${app} />`, root)
  await settle()
  assert.equal($('label[for="login-email"]').textContent, en['auth.email'])
  await type($('#login-email'), 'not-an-address')
  await submit($('form'))
  await settle()
  assert.equal($('#login-email').getAttribute('aria-invalid'), 'true')
  assert.equal($('#login-email-error').textContent, en['auth.error.email'])
  assert.match($('#login-email').getAttribute('aria-describedby'), /login-email-error/)

  await type($('#login-email'), EMAIL)
  await type($('#login-password'), 'wrong password here')
  await submit($('form'))
  await waitFor(() => alertText().includes(en['auth.login.wrong']))

  fake.throttle = 42
  await type($('#login-password'), PASSWORD)
  await submit($('form'))
  await waitFor(() => alertText().includes(t('auth.error.throttled', { seconds: '42' })))

  fake.throttle = 0
  await submit($('form'))
  // a sign-in leads to the dashboard (or, without an account, to the console)
  await waitFor(() => app.navigations.some(p => p === '/console/' || p.startsWith('/auditorium/')))
  const current = app.keys.current()
  assert.deepEqual(current.loginKey, r.loginKey)
  assert.equal(current.email, EMAIL)
  const stored = await createStorage(app.factory).wrapKey(r.state.loginId)
  assert.equal(stored.extractable, false, 'the wrap key is stored non-extractable')
  assert.deepEqual(await flows.unlock(current.state, stored).then((k) => k.loginKey), r.loginKey)
  noKeys()
})

test('setup: token from the fragment, password policy, recovery code confirmed before continuing', async () => {
  const fake = createFakeApi()
  const app = makeApp(fake)
  render(html`<${SetupPage} app=${app} location=${loc('')} />`, root)
  await settle()
  assert.equal(alertText(), en['auth.setup.noToken'])

  render(null, root)
  render(html`<${SetupPage} app=${app} location=${loc('setup-token')} />`, root)
  await waitFor(() => $('#setup-email'))
  await type($('#setup-email'), EMAIL)
  await type($('#setup-account'), 'example.org')
  await type($('#setup-password'), 'short')
  await type($('#setup-password-confirm'), 'short')
  await submit($('form'))
  await settle()
  assert.equal($('#setup-password-error').textContent, en['auth.password.tooShort'])
  assert.equal($('#setup-password').getAttribute('aria-invalid'), 'true')
  await type($('#setup-password'), 'password1234')
  await submit($('form'))
  await settle()
  assert.equal($('#setup-password-error').textContent, en['auth.password.tooWeak'])
  assert.match($('.strength__text').textContent, new RegExp(en['auth.password.level.0']))
  await type($('#setup-password'), PASSWORD)
  await submit($('form'))
  await settle()
  assert.equal($('#setup-password-confirm-error').textContent, en['auth.password.mismatch'])
  assert.ok(!fake.requests.some((x) => x.method === 'POST'), 'nothing sent while the form is invalid')
  // Both fields filled in one task, as a password manager does.
  await type($('#setup-password'), 'short')
  for (const id of ['#setup-password', '#setup-password-confirm']) {
    $(id).value = PASSWORD
    $(id).dispatchEvent(new window.Event('input', { bubbles: true }))
  }
  await settle()
  await submit($('form'))
  const code = await waitFor(() => $('[data-testid="recovery-code"]'))
  const recoveryCode = code.textContent
  assert.equal(document.activeElement, $('#recovery-heading'), 'focus moves to the new step')
  const cont = $('.recovery button[type="submit"]')
  assert.equal(cont.disabled, true)
  await type($('#recovery-stored'), true)
  await settle()
  assert.equal($('.recovery button[type="submit"]').disabled, false)
  await submit($('.recovery form'))
  await settle()
  assert.deepEqual(app.navigations, ['/console/'])
  // The code shown opens the login key the server holds.
  const l = fake.db.logins.values().next().value
  const { deriveRecoveryKeys, parseRecoveryCode, recoveryUnwrapLoginKey } = await import('../../../keys/js/crypto.js')
  const { recoveryKey } = await deriveRecoveryKeys(parseRecoveryCode(recoveryCode))
  assert.deepEqual(await recoveryUnwrapLoginKey(recoveryKey, l.loginId, l.recoveryWrappedLoginKey), app.keys.current().loginKey)
  noKeys()
})

test('setup: a wrong token is reported', async () => {
  const app = makeApp()
  render(html`<${SetupPage} app=${app} location=${loc('bad-token')} />`, root)
  await waitFor(() => $('#setup-email'))
  await type($('#setup-email'), EMAIL)
  await type($('#setup-account'), 'example.org')
  await type($('#setup-password'), PASSWORD)
  await type($('#setup-password-confirm'), PASSWORD)
  await submit($('form'))
  await waitFor(() => alertText().includes(en['auth.setup.badToken']))
})

test('forgot password: the same answer for known and unknown addresses', async () => {
  const { fake } = await setUpInstance()
  const texts = []
  for (const email of [EMAIL, 'nobody@example.org']) {
    render(null, root)
    render(html`<${ForgotPage} app=${makeApp(fake)} />`, root)
    await settle()
    await type($('#forgot-email'), email)
    await submit($('form'))
    await waitFor(() => $('[role="status"]'))
    texts.push(root.textContent)
  }
  assert.equal(texts[0], texts[1])
  assert.match(texts[0], new RegExp(en['auth.forgot.sent'].slice(0, 20)))
  assert.equal(fake.db.mails.length, 1)
  assert.equal(fake.db.mails[0].locale, 'en', 'the mail is asked for in the page language')
})

test('reset with the recovery code keeps access; a wrong code is announced', async () => {
  const { fake, r, accountId } = await setUpInstance()
  await flows.forgotPassword(fake, EMAIL)
  const token = fake.db.mails.at(-1).link.split('#')[1]
  const app = makeApp(fake)
  render(html`<${ResetPage} app=${app} location=${loc(token)} />`, root)
  await waitFor(() => $('#reset-code'))
  await type($('#reset-code'), '0000 0000 0000 0000 0000 0000 0000 0000')
  await type($('#reset-password'), 'a brand new passphrase')
  await type($('#reset-password-confirm'), 'a brand new passphrase')
  await submit($('form'))
  await waitFor(() => alertText().includes(en['auth.error.wrongCode']))
  await type($('#reset-code'), r.recoveryCode)
  await submit($('form'))
  await waitFor(() => $('[data-testid="recovery-code"]'))
  assert.deepEqual(app.keys.current().loginKey, r.loginKey)
  assert.deepEqual(app.keys.current().keks.get(accountId), r.keks.get(accountId))
  await type($('#recovery-stored'), true)
  await settle()
  await submit($('.recovery form'))
  await settle()
  assert.deepEqual(app.navigations, ['/console/'])
})

test('reset without the code lists the accounts to be shared again', async () => {
  const { fake } = await setUpInstance()
  await flows.forgotPassword(fake, EMAIL)
  const token = fake.db.mails.at(-1).link.split('#')[1]
  const app = makeApp(fake)
  render(html`<${ResetPage} app=${app} location=${loc(token)} />`, root)
  await waitFor(() => $('#reset-without-code'))
  await type($('#reset-without-code'), true)
  await settle()
  assert.equal($('[data-testid="reshare-preview"]').textContent, 'example.org')
  await type($('#reset-password'), 'a brand new passphrase')
  await type($('#reset-password-confirm'), 'a brand new passphrase')
  await submit($('form'))
  await waitFor(() => $('[data-testid="recovery-code"]'))
  await type($('#recovery-stored'), true)
  await settle()
  await submit($('.recovery form'))
  await waitFor(() => $('[data-testid="reshare-list"]'))
  assert.equal($('[data-testid="reshare-list"]').textContent, 'example.org')
  assert.ok(!fake.requests.find((x) => x.path === '/api/reset-password').body.recoveryProof)
})

test('an invalid reset link says so', async () => {
  const app = makeApp()
  render(html`<${ResetPage} app=${app} location=${loc('AAAA')} />`, root)
  await waitFor(() => alertText().includes(en['auth.error.linkInvalid']))
})

test('join as a new login, from the invite key in the fragment', async () => {
  const { fake, r, accountId } = await setUpInstance()
  fake.session = r.state.loginId
  const inv = await flows.invite(fake, { email: 'new@example.org', grants: [{ accountId, role: 'admin' }], keks: r.keks })
  fake.session = null
  const app = makeApp(fake)
  render(html`<${JoinPage} app=${app} location=${loc(inv.joinLink.split('#')[1])} />`, root)
  await waitFor(() => $('#join-password'))
  assert.equal($('[data-testid="join-accounts"]').textContent.trim(), t('auth.join.accountRole', { name: 'example.org', role: en['console.role.admin'] }))
  await type($('#join-password'), 'my own passphrase now')
  await type($('#join-password-confirm'), 'my own passphrase now')
  await submit($('form'))
  await waitFor(() => $('[data-testid="recovery-code"]'))
  assert.deepEqual(app.keys.current().keks.get(accountId), r.keks.get(accountId))
  noKeys()
})

test('join as an existing login signs in on the page first', async () => {
  const { fake, r, accountId } = await setUpInstance()
  // A second login holding its own account invites the first one.
  fake.session = r.state.loginId
  const inv = await flows.invite(fake, { email: 'b@example.org', grants: [{ accountId, role: 'admin' }], keks: r.keks })
  const i = await flows.inviteFromFragment(inv.joinLink.split('#')[1])
  const b = await flows.join(fake, { token: i.token, inviteWrapKey: i.inviteWrapKey, lookup: await flows.joinLookup(fake, i.token), password: 'second passphrase here' })
  const own = await flows.createAccount(fake, { loginKey: b.loginKey, name: 'b.example.org', email: 'b@example.org' })
  const inv2 = await flows.invite(fake, { email: EMAIL, grants: [{ accountId: own.account.accountId, role: 'viewer' }], keks: new Map([[own.account.accountId, own.kek]]) })
  fake.session = null

  const app = makeApp(fake)
  render(html`<${JoinPage} app=${app} location=${loc(inv2.joinLink.split('#')[1])} />`, root)
  await waitFor(() => $('#join-login-email'))
  await type($('#join-login-email'), EMAIL)
  await type($('#join-login-password'), PASSWORD)
  await submit($('form'))
  await waitFor(() => root.textContent.includes(en['auth.join.accept']) && $('form button[type="submit"]').textContent === en['auth.join.accept'])
  await submit($('form'))
  await waitFor(() => app.navigations.includes('/console/'))
  assert.deepEqual(app.keys.current().keks.get(own.account.accountId), own.kek)
})

test('console: accounts, create, share link, origins, banner validation, people', async () => {
  const { fake, r, accountId } = await setUpInstance()
  const app = makeApp(fake)
  await app.keys.signedIn(await flows.login(fake, EMAIL, PASSWORD), EMAIL)
  render(html`<${ConsolePage} app=${app} />`, root)
  await waitFor(() => $('[data-testid="accounts"]'))
  assert.match($('[data-testid="accounts"]').textContent, /example\.org/)

  // Create an account.
  await type($('#create-name'), 'shop.example.org')
  await submit($('#create-name').closest('form'))
  await waitFor(() => $('[data-testid="accounts"]').textContent.includes('shop.example.org'))
  const shop = [...fake.db.accounts.values()].find((a) => a.name === 'shop.example.org')
  const { unwrapKek, decryptLabel } = await import('../../../keys/js/crypto.js')
  const g = fake.db.grants.find((x) => x.accountId === shop.accountId)
  const kek = await unwrapKek(r.loginKey, shop.accountId, g.wrappedKek)
  assert.equal(await decryptLabel(kek, shop.accountId, g.label), EMAIL)

  // Share both accounts; the link carries the key in its fragment, which was never sent.
  await type($('#share-email'), 'colleague@example.org')
  await type($('#share-' + accountId), true)
  await settle()
  await type($('#share-role-' + accountId), 'admin')
  await submit($('#share-email').closest('form'))
  const link = await waitFor(() => $('[data-testid="join-link"]'))
  const [base, key] = link.value.split('#')
  assert.equal(base, 'http://offen.test/join/')
  assert.ok(!fake.bodies().includes(key))
  assert.equal(fake.requests.find((x) => x.path === '/api/invitations').body.grants[0].role, 'admin')

  // Manage the first account.
  const manage = [...root.querySelectorAll('[data-testid="accounts"] button')].find((b) => b.textContent.includes('Manage example.org'))
  manage.click()
  await waitFor(() => $('#snippet-embed') && $('#snippet-embed').value.includes(accountId))
  assert.equal($('#snippet-embed').value, `<script async src="http://offen.test/script.js" data-account-id="${accountId}"></script>`)
  assert.ok($('[data-testid="origins-empty"]'))

  await type($('#origins-edit'), 'ftp://nope')
  await submit($('#origins-edit').closest('form'))
  await waitFor(() => $('#origins-problem'))
  assert.match($('#origins-problem').textContent, /not an origin/)
  await type($('#origins-edit'), 'https://www.offen.test\nhttps://elsewhere.org')
  await submit($('#origins-edit').closest('form'))
  await waitFor(() => $('[data-testid="origins-cross"]'))
  const items = [...root.querySelectorAll('[data-testid="origins"] li')].map((li) => li.textContent)
  assert.deepEqual(items, ['https://www.offen.test' + en['console.origins.sameSite'], 'https://elsewhere.org' + en['console.origins.crossSite']])
  assert.match($('[data-testid="origins-cross"]').textContent, new RegExp(en['console.origins.blockStorage'].slice(0, 30)))

  await type($('#banner-css'), '.offen-banner { background: url(x) }')
  await waitFor(() => $('#banner-problem').textContent.includes('url() is not allowed'))
  assert.equal($('#banner-css').getAttribute('aria-invalid'), 'true')
  await type($('#banner-css'), '.offen-banner { color: #123456 }')
  await waitFor(() => $('#banner-problem').textContent === '')
  await submit($('#banner-css').closest('form'))
  await waitFor(() => fake.db.accounts.get(accountId).bannerCss === '.offen-banner { color: #123456 }')
  assert.ok(fake.requests.some((x) => x.path.endsWith('/banner-styles') && x.body.dryRun === true))

  await waitFor(() => $('[data-testid="people"]'))
  assert.match($('[data-testid="people"]').textContent, new RegExp(EMAIL))
  assert.match($('[data-testid="people"]').textContent, /colleague@example\.org/)
  noKeys()
})

test('console: password change keeps the keys, wrong password is announced, logout forgets the keys', async () => {
  const { fake, r } = await setUpInstance()
  const app = makeApp(fake)
  await app.keys.signedIn(await flows.login(fake, EMAIL, PASSWORD), EMAIL)
  render(html`<${ConsolePage} app=${app} />`, root)
  await waitFor(() => $('#password-current'))
  await type($('#password-current'), 'not the password')
  await type($('#password-new'), 'a different passphrase')
  await type($('#password-new-confirm'), 'a different passphrase')
  await submit($('#password-current').closest('form'))
  await waitFor(() => alertText().includes(en['console.reauth.wrong']))
  await type($('#password-current'), PASSWORD)
  await submit($('#password-current').closest('form'))
  await waitFor(() => root.textContent.includes(en['console.password.done']))
  const again = await flows.login(fake, EMAIL, 'a different passphrase')
  assert.deepEqual(again.loginKey, r.loginKey)

  const logout = [...root.querySelectorAll('button')].find((b) => b.textContent === en['console.logout.submit'])
  logout.click()
  await waitFor(() => app.navigations.includes('/login/'))
  assert.equal(app.keys.current(), null)
  assert.equal(await createStorage(app.factory).wrapKey(r.state.loginId), undefined)
})

test('console: a session that became ready between the first render and its effects shows the accounts', async () => {
  // On a reload the session's restore() can finish after the page rendered "loading" but
  // before the page subscribed to changes; no change is announced after that.
  const { fake } = await setUpInstance()
  const app = makeApp(fake)
  await app.keys.signedIn(await flows.login(fake, EMAIL, PASSWORD), EMAIL)
  let firstRender = true
  const keys = { ...app.keys, current: () => (firstRender ? ((firstRender = false), null) : app.keys.current()) }
  render(html`<${ConsolePage} app=${{ ...app, keys }} />`, root)
  await waitFor(() => $('[data-testid="accounts"]'))
})

test('console without a session goes to the login page', async () => {
  const app = makeApp()
  render(html`<${ConsolePage} app=${app} />`, root)
  await waitFor(() => app.navigations.includes('/login/'))
})

test('console: roles, revoking, a new recovery code, e-mail change and retiring', async () => {
  const { fake, r, accountId } = await setUpInstance()
  fake.session = r.state.loginId
  const inv = await flows.invite(fake, { email: 'second@example.org', grants: [{ accountId, role: 'viewer' }], keks: r.keks })
  const i = await flows.inviteFromFragment(inv.joinLink.split('#')[1])
  const second = await flows.join(fake, { token: i.token, inviteWrapKey: i.inviteWrapKey, lookup: await flows.joinLookup(fake, i.token), password: 'second passphrase here' })
  fake.session = null
  const app = makeApp(fake)
  await app.keys.signedIn(await flows.login(fake, EMAIL, PASSWORD), EMAIL)
  render(html`<${ConsolePage} app=${app} />`, root)
  await waitFor(() => $('[data-testid="accounts"] button'))
  $('[data-testid="accounts"] button').click()
  await waitFor(() => $('#role-' + second.state.loginId))
  await type($('#role-' + second.state.loginId), 'admin')
  await waitFor(() => fake.db.grants.find((g) => g.loginId === second.state.loginId).role === 'admin')
  await waitFor(() => root.textContent.includes(t('console.people.roleChanged', { who: 'second@example.org' })))

  // The last admin cannot leave: demote the other one first is refused by the server.
  await type($('#role-' + second.state.loginId), 'viewer')
  await waitFor(() => fake.db.grants.find((g) => g.loginId === second.state.loginId).role === 'viewer')
  const own = [...root.querySelectorAll('[data-testid="people"] button')].find((b) => b.textContent.trim() === en['console.people.leave'])
  globalThis.confirm = () => true
  own.click()
  await waitFor(() => alertText().includes(en['console.people.lastAdmin']))
  // A refused demotion shows the role the server kept.
  await type($('#role-' + r.state.loginId), 'viewer')
  await waitFor(() => alertText().includes(en['console.people.lastAdmin']) && $('#role-' + r.state.loginId).value === 'admin')
  const revoke = [...root.querySelectorAll('[data-testid="people"] button')].find((b) => b.textContent.trim() === en['console.people.revoke'])
  revoke.click()
  await waitFor(() => !fake.db.grants.some((g) => g.loginId === second.state.loginId))

  // The banner preview shows the vault's own markup.
  const stage = $('[data-testid="banner-preview"]')
  assert.ok(stage.hasAttribute('inert') || stage.inert === true, 'the preview is inert')
  assert.ok([...stage.shadowRoot.querySelectorAll('button')].every((b) => b.disabled))
  assert.ok(stage.shadowRoot.querySelector('.offen-banner__button--allow'))
  assert.equal(stage.shadowRoot.querySelector('.offen-banner__title').textContent, en['vault.banner.title'])

  // A new recovery code, shown once and confirmed.
  await type($('#recovery-password'), PASSWORD)
  await submit($('#recovery-password').closest('form'))
  const code = (await waitFor(() => $('[data-testid="recovery-code"]'))).textContent
  const l = fake.db.logins.get(r.state.loginId)
  const { deriveRecoveryKeys, parseRecoveryCode, recoveryUnwrapLoginKey, decryptLabel } = await import('../../../keys/js/crypto.js')
  const { recoveryKey } = await deriveRecoveryKeys(parseRecoveryCode(code))
  assert.deepEqual(await recoveryUnwrapLoginKey(recoveryKey, l.loginId, l.recoveryWrappedLoginKey), r.loginKey)
  await type($('#recovery-stored'), true)
  await submit($('.recovery form'))
  await waitFor(() => root.textContent.includes(en['console.recovery.done']))

  // A new address: labels re-encrypted.
  await type($('#email-new'), 'boss@example.org')
  await type($('#email-password'), PASSWORD)
  await submit($('#email-new').closest('form'))
  await waitFor(() => root.textContent.includes(en['console.email.done']))
  assert.equal(await decryptLabel(r.keks.get(accountId), accountId, fake.db.grants.find((g) => g.loginId === r.state.loginId).label), 'boss@example.org')

  // Retire: the name must match, then the password is checked.
  await type($('#retire-name'), 'wrong name')
  await type($('#retire-password'), PASSWORD)
  await submit($('#retire-name').closest('form'))
  assert.equal($('#retire-name-error').textContent, en['console.retire.nameMismatch'])
  await type($('#retire-name'), 'example.org')
  await type($('#retire-password'), 'not the password')
  await submit($('#retire-name').closest('form'))
  await waitFor(() => alertText().includes(en['console.reauth.wrong']))
  await type($('#retire-password'), PASSWORD)
  await submit($('#retire-name').closest('form'))
  await waitFor(() => fake.db.accounts.get(accountId).retired)
  await waitFor(() => !$('[data-testid="account-panel"]'))
  await waitFor(() => document.activeElement === $('#accounts-title'))
  noKeys()
})

test('console: a valid session without a wrap key in this browser is unlocked with the password', async () => {
  const { fake, r } = await setUpInstance()
  fake.session = r.state.loginId // the login cookie, but a fresh IndexedDB
  const app = makeApp(fake)
  render(html`<${ConsolePage} app=${app} />`, root)
  await waitFor(() => $('#unlock-password'))
  assert.deepEqual(app.navigations, [])
  await type($('#unlock-password'), 'not the password at all')
  await submit($('form'))
  await waitFor(() => alertText().includes(en['console.reauth.wrong']))
  await type($('#unlock-password'), PASSWORD)
  await submit($('form'))
  await waitFor(() => $('[data-testid="accounts"]'))
  assert.deepEqual(app.keys.current().loginKey, r.loginKey)
  assert.ok(await createStorage(app.factory).wrapKey(r.state.loginId), 'the wrap key is stored again')
  noKeys()
})

test('console: an admin shares again with a login reset without its code; the new link restores access', async () => {
  const { fake, r, accountId } = await setUpInstance()
  // A second admin, who then loses the recovery code and resets.
  fake.session = r.state.loginId
  const inv = await flows.invite(fake, { email: 'second@example.org', grants: [{ accountId, role: 'admin' }], keks: r.keks })
  const i = await flows.inviteFromFragment(inv.joinLink.split('#')[1])
  const second = await flows.join(fake, { token: i.token, inviteWrapKey: i.inviteWrapKey, lookup: await flows.joinLookup(fake, i.token), password: 'second passphrase here' })
  await flows.forgotPassword(fake, 'second@example.org')
  const token = fake.db.mails.at(-1).link.split('#')[1]
  const reset = await flows.resetPassword(fake, { token, lookup: await flows.resetLookup(fake, token), password: 'after the reset 123' })
  assert.deepEqual(reset.reshare.map((a) => a.accountId), [accountId])

  fake.session = null
  const app = makeApp(fake)
  await app.keys.signedIn(await flows.login(fake, EMAIL, PASSWORD), EMAIL)
  render(html`<${ConsolePage} app=${app} />`, root)
  await waitFor(() => $('[data-testid="accounts"] button'))
  $('[data-testid="accounts"] button').click()
  const again = await waitFor(() => [...root.querySelectorAll('[data-testid="people"] button')].find((b) => b.textContent.trim() === en['console.people.shareAgain']))
  assert.match(again.closest('tr').textContent, new RegExp(en['console.state.reshare']))
  again.click()
  const link = await waitFor(() => $('[data-testid="reshare-link"]'))
  assert.match(root.textContent, new RegExp(t('console.people.sharedAgain', { who: 'second@example.org' }).slice(0, 20)))

  // The reset login joins with its new login key and reads the account again.
  fake.session = null
  const j = await flows.inviteFromFragment(link.value.split('#')[1])
  const lookup = await flows.joinLookup(fake, j.token)
  assert.equal(lookup.existingLogin, true)
  const b = await flows.login(fake, 'second@example.org', 'after the reset 123')
  const out = await flows.join(fake, { token: j.token, inviteWrapKey: j.inviteWrapKey, lookup, loginKey: b.loginKey })
  assert.deepEqual(out.keks.get(accountId), r.keks.get(accountId))
  assert.equal(fake.db.grants.find((g) => g.loginId === second.state.loginId).role, 'admin')
})
