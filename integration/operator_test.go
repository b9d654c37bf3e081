// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The operator's journeys through the auditorium's pages (PRODUCT.md §4),
// against the page ids of auditorium/src/pages.

var setupLinkLog = regexp.MustCompile(`url=(http://\S+/setup/#\S+)`)

// SetupURL returns the browser setup link that offen serve logged.
func (o *Offen) SetupURL() string {
	o.t.Helper()
	m := setupLinkLog.FindStringSubmatch(o.Log())
	if m == nil {
		o.t.Fatalf("offen serve logged no setup link:\n%s", o.Log())
	}
	return m[1]
}

// login signs in at /login/ and waits for the console.
func login(b *Browser, o *Offen, email, password string) {
	b.t.Helper()
	signIn(b, o, email, password)
	toConsole(b, o)
}

// signIn signs in at /login/ and waits for where a sign-in leads: the
// dashboard of the account used last (or of the first one), or the console
// for a login without an active account.
func signIn(b *Browser, o *Offen, email, password string) {
	b.t.Helper()
	b.Navigate(o.URL + "/login/")
	b.Fill("#login-email", email)
	b.Fill("#login-password", password)
	b.Submit("#login-email")
	b.UntilJS(signedInLanding, "the dashboard or the console after the sign-in")
}

// signedInLanding holds once a sign-in has led to its page.
const signedInLanding = `(location.pathname.startsWith('/auditorium/') && !!document.querySelector('.dashboard')) || (location.pathname.startsWith('/console/') && !!document.querySelector('[data-testid=accounts]'))`

// toConsole opens the console (the journeys that sign in continue there).
func toConsole(b *Browser, o *Offen) {
	b.t.Helper()
	var there bool
	b.evalJS(`location.pathname.startsWith('/console/')`, &there)
	if !there {
		b.Navigate(o.URL + "/console/")
	}
	b.WaitVisible("[data-testid=accounts]")
}

// loginAfterFailure signs in after a failed attempt with the same address
// from the same browser: the server makes that login wait 2^(n-1) s after n
// failures (PROTOCOL §7.5) and answers 429 meanwhile, which the page reports;
// so it submits again until the sign-in leads on, then opens the console.
func loginAfterFailure(b *Browser, o *Offen, email, password string) {
	b.t.Helper()
	b.Navigate(o.URL + "/login/")
	b.Fill("#login-email", email)
	b.Fill("#login-password", password)
	deadline := time.Now().Add(stepTimeout)
	for {
		// Submit when the form is idle (not while a request is running or
		// once the sign-in has led on).
		var state string
		b.evalJS(`(() => {
			if (`+signedInLanding+`) return 'signed in'
			const button = document.querySelector('#login-email')?.form?.querySelector('[type=submit]')
			if (button && !button.disabled) { button.click(); return 'submitted' }
			return 'busy'
		})()`, &state)
		for wait := time.Now().Add(3 * time.Second); time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
			var done bool
			if b.tryDo(evaluate(signedInLanding, &done, 0)) == nil && done {
				toConsole(b, o)
				return
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("could not sign in after a failed attempt (last: %s)", state)
		}
	}
}

// logout uses the console's logout button and waits for /login/.
func logout(b *Browser) {
	b.t.Helper()
	b.Click("section[aria-labelledby=logout-title] button")
	b.WaitPath("/login/")
}

// signedIn reports the status of GET /api/login with the browser's cookies.
func signedIn(b *Browser) int {
	b.t.Helper()
	return b.FetchStatus("", "GET", "/api/login", "")
}

// recoveryCode reads the recovery code shown once, confirms it was stored
// and continues.
func recoveryCode(b *Browser) string {
	b.t.Helper()
	code := b.Text("[data-testid=recovery-code]")
	if !regexp.MustCompile(`^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$`).MatchString(code) {
		b.t.Errorf("got recovery code %q, want eight groups of four", code)
	}
	b.Check("#recovery-stored")
	b.Submit("#recovery-stored")
	return code
}

// journeySetupInBrowser: on an empty database the setup link of the log
// creates the first login and account in the browser; the recovery code is
// shown once; the new login reaches the console and can sign in again.
func journeySetupInBrowser(t *testing.T, d Database) {
	o := StartOffen(t, Options{NoSetup: true, Database: d})
	b := NewBrowser(t)
	b.Navigate(o.SetupURL())
	b.WaitVisible("#setup-email")
	b.Axe("the setup page")
	email := marker("setup") + "@example.org"
	b.Fill("#setup-email", email)
	b.Fill("#setup-account", "Set up in the browser")
	b.Fill("#setup-password", testPassword)
	b.Fill("#setup-password-confirm", testPassword)
	b.Submit("#setup-email")
	b.WaitVisible("[data-testid=recovery-code]")
	b.Axe("the recovery code of setup")
	recoveryCode(b)
	b.WaitPath("/console/")
	b.WaitVisible("[data-testid=accounts]")
	if got := b.Text("[data-testid=accounts]"); !strings.Contains(got, "Set up in the browser") {
		t.Errorf("the console lists %q, want the new account", got)
	}
	if s := signedIn(b); s != 200 {
		t.Errorf("GET /api/login after setup: got %d, want 200", s)
	}
	logout(b)
	login(b, o, email, testPassword)
	// Setup is over: the link no longer works.
	if s := b.FetchStatus("", "GET", "/api/setup", ""); s != 200 {
		t.Errorf("GET /api/setup: got %d", s)
	}
	var status struct{ Required bool }
	b.FetchJSON("", "/api/setup", &status)
	if status.Required {
		t.Error("setup still required after it was done")
	}
}

// journeyLoginLogout: sign in, see the console, sign out; the session is
// gone on the server.
func journeyLoginLogout(t *testing.T, d Database) {
	o := withOperator(t, d)
	b := NewBrowser(t)
	b.Navigate(o.URL + "/login/")
	b.WaitVisible("#login-email")
	b.Axe("the login page")
	login(b, o, o.Email, o.Password)
	if got := b.Text("[data-testid=accounts]"); !strings.Contains(got, "Our website") {
		t.Errorf("the console lists %q, want the account", got)
	}
	b.Axe("the console")
	if s := signedIn(b); s != 200 {
		t.Errorf("GET /api/login: got %d, want 200", s)
	}
	// A reload keeps the session (the wrap key stays in IndexedDB).
	b.Navigate(o.URL + "/console/")
	b.WaitVisible("[data-testid=accounts]")
	logout(b)
	if s := signedIn(b); s != 401 {
		t.Errorf("GET /api/login after logout: got %d, want 401", s)
	}
	b.Navigate(o.URL + "/console/")
	b.WaitPath("/login/")
}

// journeyWrongPassword: a wrong password is refused with an announced
// message and no session.
func journeyWrongPassword(t *testing.T, d Database) {
	o := withOperator(t, d)
	b := NewBrowser(t)
	b.Navigate(o.URL + "/login/")
	b.Fill("#login-email", o.Email)
	b.Fill("#login-password", "not the password at all")
	b.Submit("#login-email")
	b.WaitVisible("#login-alert")
	b.Axe("the login page with an error")
	if got := b.Text("#login-alert"); got == "" {
		t.Error("the error message is empty")
	}
	var role string
	b.evalJS(`document.getElementById('login-alert').getAttribute('role')`, &role)
	if role != "alert" {
		t.Errorf("got role %q on the error, want alert", role)
	}
	if s := signedIn(b); s != 401 {
		t.Errorf("GET /api/login after a wrong password: got %d, want 401", s)
	}
	// The right password still works afterwards (after the backoff).
	loginAfterFailure(b, o, o.Email, o.Password)
}

// journeyChangePassword: change the password in the console; the old one
// stops working, the new one signs in and still opens the account's keys.
func journeyChangePassword(t *testing.T, d Database) {
	o := withOperator(t, d)
	b := NewBrowser(t)
	login(b, o, o.Email, o.Password)
	const newPassword = "a different but long passphrase 7"
	b.Fill("#password-current", o.Password)
	b.Fill("#password-new", newPassword)
	b.Fill("#password-new-confirm", newPassword)
	b.Submit("#password-current")
	b.UntilJS(`[...document.querySelectorAll('section[aria-labelledby=password-title] [role=status]')].some((e) => e.textContent.trim() !== '')`, "the password change to be confirmed")
	b.Axe("the console after a password change")
	logout(b)

	b.Navigate(o.URL + "/login/")
	b.Fill("#login-email", o.Email)
	b.Fill("#login-password", o.Password)
	b.Submit("#login-email")
	b.WaitVisible("#login-alert")
	loginAfterFailure(b, o, o.Email, newPassword)
	openAccountPanel(b, "Our website")
}

// openAccountPanel opens the console's panel of the named account (which
// needs the account's private key, so proves the KEK unwrapped).
func openAccountPanel(b *Browser, name string) {
	b.t.Helper()
	b.Click("[data-testid=accounts] tbody tr button")
	b.WaitVisible("[data-testid=account-panel]")
	b.WaitVisible("#snippet-embed")
	if got := b.Text("#account-title"); !strings.Contains(got, name) {
		b.t.Errorf("the account panel is titled %q, want %q", got, name)
	}
}

// journeyRetireAccount: retire the account by typing its name and the
// password; it leaves the list and its vault answers 404.
func journeyRetireAccount(t *testing.T, d Database) {
	o := withOperator(t, d)
	b := NewBrowser(t)
	login(b, o, o.Email, o.Password)
	openAccountPanel(b, "Our website")
	b.Axe("the account panel")
	b.Fill("#retire-name", "Our website")
	b.Fill("#retire-password", o.Password)
	b.Submit("#retire-name")
	b.UntilJS(`!document.querySelector('[data-testid=account-panel]') && !!document.querySelector('[data-testid=accounts], .console-section p')`, "the account panel to close")
	b.UntilJS(`!(document.querySelector('[data-testid=accounts]')?.textContent || '').includes('Our website')`, "the account to leave the list")
	if s := b.FetchStatus("", "GET", "/api/accounts/"+o.AccountID, ""); s != 404 {
		t.Errorf("GET /api/accounts/{id} after retiring: got %d, want 404", s)
	}
	if s := b.FetchStatus("", "GET", "/vault/?accountId="+o.AccountID, ""); s != 404 {
		t.Errorf("the vault of a retired account: got %d, want 404", s)
	}
}

// journeyForgotReset: forgot password, the mailed link, reset with the
// recovery code and a new password: the login keeps its account (grants
// untouched) and the new password signs in.
func journeyForgotReset(t *testing.T, d Database) {
	o := withOperator(t, d)
	b := NewBrowser(t)
	b.Navigate(o.URL + "/login/")
	b.Click(`a[href="/forgot-password/"]`)
	b.WaitPath("/forgot-password/")
	b.Axe("the forgot-password page")
	b.Fill("#forgot-email", o.Email)
	b.Submit("#forgot-email")
	link := o.Mail.waitLink(t, 1, o.URL+"/reset-password/#")

	b.Navigate(link)
	b.WaitVisible("#reset-code")
	b.Axe("the reset page")
	const newPassword = "reset with the recovery code 99"
	b.Fill("#reset-code", strings.ToLower(o.RecoveryCode))
	b.Fill("#reset-password", newPassword)
	b.Fill("#reset-password-confirm", newPassword)
	b.Submit("#reset-code")
	b.WaitVisible("[data-testid=recovery-code]")
	newCode := recoveryCode(b)
	if newCode == o.RecoveryCode {
		t.Error("the reset kept the old recovery code")
	}
	b.UntilJS(`location.pathname.startsWith('/console/') || !!document.querySelector('a[href="/console/"]')`, "the end of the reset")
	b.Navigate(o.URL + "/console/")
	b.WaitVisible("[data-testid=accounts]")
	if got := b.Text("[data-testid=accounts]"); strings.Contains(got, "reshare") || !strings.Contains(got, "Our website") {
		t.Errorf("after a reset with the code the console lists %q, want the account active", got)
	}
	openAccountPanel(b, "Our website")
	logout(b)
	login(b, o, o.Email, newPassword)
}

// journeyInviteJoin: the admin shares the account with a new address; the
// invitee opens the join link in another browser, chooses a password, gets
// a recovery code and sees the account; the invitation mail links there too.
func journeyInviteJoin(t *testing.T, d Database) {
	o := withOperator(t, d)
	admin := NewBrowser(t)
	login(admin, o, o.Email, o.Password)
	invitee := marker("invitee") + "@example.org"
	admin.Fill("#share-email", invitee)
	admin.Check("#share-" + o.AccountID)
	admin.Check("#share-send")
	admin.Submit("#share-email")
	admin.WaitVisible("[data-testid=join-link]")
	admin.Axe("the console with a join link")
	var joinLink string
	admin.evalJS(`document.querySelector('[data-testid=join-link]').value`, &joinLink)
	if !strings.HasPrefix(joinLink, o.URL+"/join/#") {
		t.Fatalf("got join link %q", joinLink)
	}
	if mailed := o.Mail.waitLink(t, 1, o.URL+"/join/#"); mailed != joinLink {
		t.Errorf("the mail links to %q, the console shows %q", mailed, joinLink)
	}

	b := NewBrowser(t)
	b.Navigate(joinLink)
	b.WaitVisible("[data-testid=join-accounts]")
	b.Axe("the join page")
	if got := b.Text("[data-testid=join-accounts]"); !strings.Contains(got, "Our website") {
		t.Errorf("the join page lists %q, want the shared account", got)
	}
	b.Fill("#join-password", testPassword)
	b.Fill("#join-password-confirm", testPassword)
	b.Submit("#join-password")
	b.WaitVisible("[data-testid=recovery-code]")
	recoveryCode(b)
	b.Navigate(o.URL + "/console/")
	b.WaitVisible("[data-testid=accounts]")
	if got := b.Text("[data-testid=accounts]"); !strings.Contains(got, "Our website") {
		t.Errorf("the invitee's console lists %q, want the shared account", got)
	}
	openAccountPanel(b, "Our website")
	logout(b)
	login(b, o, invitee, testPassword)
}
