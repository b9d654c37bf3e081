// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// Security properties of PROTOCOL §10 on the visitor side: P5 (visitors read,
// export and delete all their data), P6 (nothing stored or set before
// consent), P9 (pseudonyms cannot be linked at rest), and the request log's
// silence about visitors (§7.1).

// remoteAccount is an account as a visitor knows it: id and public key
// from GET /api/exchange.
func (v *visitor) exchangeRemote(accountID string) string {
	v.t.Helper()
	var pk struct {
		AccountID string `json:"accountId"`
		PublicKey string `json:"publicKey"`
	}
	v.do("GET", "/api/exchange?accountId="+accountID, nil).must(v.t, 200).decode(v.t, &pk)
	pub, err := keys.ParsePublicKey(pk.PublicKey)
	if err != nil {
		v.t.Fatal(err)
	}
	secret := keys.NewKey()
	wrapped, err := keys.WrapUserSecret(pub, accountID, secret)
	if err != nil {
		v.t.Fatal(err)
	}
	keyID := keys.NewKeyID()
	v.do("POST", "/api/exchange", map[string]string{"accountId": accountID, "keyId": keyID, "wrappedSecret": wrapped}).must(v.t, http.StatusCreated)
	v.secrets[keyID] = visitorSecret{accountID: accountID, secret: secret}
	return keyID
}

// feedEvent is an item of GET /api/events.
type feedEvent struct {
	AccountID string `json:"accountId"`
	EventID   string `json:"eventId"`
	KeyID     string `json:"keyId"`
	Payload   string `json:"payload"`
}

type feedTombstone struct {
	AccountID string `json:"accountId"`
	Kind      string `json:"kind"`
	Target    string `json:"target"`
}

// visitorPage is the Page of GET /api/events.
type visitorPage struct {
	Events        []feedEvent                      `json:"events"`
	Tombstones    []feedTombstone                  `json:"tombstones"`
	Accounts      map[string]struct{ Name string } `json:"accounts"`
	RetentionDays int                              `json:"retentionDays"`
	Next          string                           `json:"next"`
	More          bool                             `json:"more"`
	Reset         bool                             `json:"reset"`
}

// syncVisitor runs the visitor feed from since until more is false, two
// items a page, and returns everything with the resume cursor.
func (v *visitor) sync(since string) ([]feedEvent, []feedTombstone, map[string]string, string) {
	v.t.Helper()
	var events []feedEvent
	var tombs []feedTombstone
	names := map[string]string{}
	for i := 0; ; i++ {
		if i > 100 {
			v.t.Fatal("feed does not end")
		}
		var p visitorPage
		v.do("GET", "/api/events?limit=2&since="+since, nil).must(v.t, 200).decode(v.t, &p)
		events = append(events, p.Events...)
		tombs = append(tombs, p.Tombstones...)
		for id, a := range p.Accounts {
			names[id] = a.Name
		}
		since = p.Next
		if !p.More {
			return events, tombs, names, since
		}
	}
}

// hrefOf decrypts an event with the visitor's secret of its key id.
func (v *visitor) hrefOf(accountID, keyID, payload string) string {
	v.t.Helper()
	s, ok := v.secrets[keyID]
	if !ok {
		v.t.Fatalf("event under key %s that the visitor does not hold", keyID)
	}
	c, err := keys.NewCipher(s.secret)
	if err != nil {
		v.t.Fatal(err)
	}
	b, err := keys.DecryptEvent(c, accountID, payload)
	if err != nil {
		v.t.Fatalf("decrypt: %v", err)
	}
	var e struct{ Href string }
	json.Unmarshal(b, &e)
	return e.Href
}

// operatorFeed reads GET /api/accounts/{id}/events as o from since to the end.
func operatorFeed(t *testing.T, in *instance, o *operator, accountID, since string) (events []map[string]string, tombs []map[string]string, next string) {
	t.Helper()
	for {
		var p struct {
			Events        []map[string]string `json:"events"`
			Tombstones    []map[string]string `json:"tombstones"`
			RetentionDays int                 `json:"retentionDays"`
			Next          string              `json:"next"`
			More          bool                `json:"more"`
		}
		in.do(call{method: "GET", path: "/api/accounts/" + accountID + "/events?limit=3&since=" + since, cookie: o.cookie}).
			must(t, 200).decode(t, &p)
		if p.RetentionDays != 186 {
			t.Errorf("got retentionDays %d", p.RetentionDays)
		}
		events = append(events, p.Events...)
		tombs = append(tombs, p.Tombstones...)
		since = p.Next
		if !p.More {
			return events, tombs, since
		}
	}
}

// secretIDsOf computes the visitor's secret id in each account, as the
// server does.
func secretIDsOf(t *testing.T, store persistence.Store, user string) map[string]string {
	t.Helper()
	raw, err := keys.ParseUserID(user)
	if err != nil {
		t.Fatal(err)
	}
	salts, err := store.ListUserSalts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range salts {
		out[s.AccountID], _ = keys.SecretID(s.UserSalt, raw)
	}
	return out
}

// allRows reads an account's feeds from the beginning.
func allRows(t *testing.T, store persistence.Store, accountID string) ([]persistence.Event, []persistence.Secret) {
	t.Helper()
	var events []persistence.Event
	var secrets []persistence.Secret
	q := persistence.FeedQuery{Limit: persistence.MaxFeedLimit}
	for more := true; more; {
		page, err := store.AccountEvents(t.Context(), accountID, q, persistence.FeedItems{
			Event: func(e persistence.Event) error { events = append(events, e); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		q.Since, more = page.Next, page.More
	}
	q.Since = ""
	for more := true; more; {
		page, err := store.AccountSecrets(t.Context(), accountID, q, persistence.FeedItems{
			Secret: func(s persistence.Secret) error { secrets = append(secrets, s); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		q.Since, more = page.Next, page.More
	}
	return events, secrets
}

// TestVisitorOwnsTheirData is P5.
func TestVisitorOwnsTheirData(t *testing.T) {
	t.Parallel()
	in := newInstance(t, nil)
	admin := newOperator("admin@example.org")
	a, r := in.setup(t, admin, "")
	r.must(t, http.StatusCreated)
	b, r := in.createAccount(t, admin, "second site")
	r.must(t, http.StatusCreated)

	vis, other := newVisitor(t, in.h), newVisitor(t, in.h)
	other.ip = "203.0.113.99"
	k1 := vis.exchangeRemote(a)
	k2 := vis.exchangeRemote(a) // a second key in the same account (site data wiped)
	kb := vis.exchangeRemote(b)
	ko := other.exchangeRemote(a)
	vis.send(a, k1, "https://a.example/1", "https://a.example/2").must(t, 201)
	vis.send(a, k2, "https://a.example/3").must(t, 201)
	vis.send(b, kb, "https://b.example/1").must(t, 201)
	other.send(a, ko, "https://a.example/other").must(t, 201)
	mine := []string{"https://a.example/1", "https://a.example/2", "https://a.example/3", "https://b.example/1"}

	// The feed returns exactly the visitor's events, readable with their keys.
	events, tombs, names, cursor := vis.sync("")
	var got []string
	for _, e := range events {
		got = append(got, vis.hrefOf(e.AccountID, e.KeyID, e.Payload))
	}
	slices.Sort(got)
	if !slices.Equal(got, mine) || len(tombs) != 0 {
		t.Errorf("feed: got %v and %d tombstones, want %v", got, len(tombs), mine)
	}
	if names[a] != "first site" || names[b] != "second site" {
		t.Errorf("got account names %v", names)
	}

	// So does the export.
	res := vis.do("GET", "/api/events/export", nil).must(t, 200)
	got = nil
	sc := bufio.NewScanner(bytes.NewReader(res.body))
	for sc.Scan() {
		var l struct{ AccountID, AccountName, EventID, KeyID, Payload string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if l.EventID == "" || (l.AccountID == a) != (l.AccountName == "first site") {
			t.Errorf("export line %q", sc.Text())
		}
		got = append(got, vis.hrefOf(l.AccountID, l.KeyID, l.Payload))
	}
	slices.Sort(got)
	if !slices.Equal(got, mine) {
		t.Errorf("export: got %v, want %v", got, mine)
	}

	// The operator's feed holds all four events of account a.
	opEvents, _, opCursor := operatorFeed(t, in, admin, a, "")
	if len(opEvents) != 4 {
		t.Fatalf("operator sees %d events, want 4", len(opEvents))
	}
	ids := secretIDsOf(t, in.store, vis.user)
	var visEventIDs []string
	for _, e := range opEvents {
		if e["secretId"] == ids[a] {
			visEventIDs = append(visEventIDs, e["eventId"])
		}
	}

	// Purge: no event row with the visitor's secret ids is left; the
	// operator receives a tombstone per event; the other visitor keeps theirs.
	vis.do("POST", "/api/purge", `{}`).must(t, 204)
	for _, acc := range []string{a, b} {
		evs, _ := allRows(t, in.store, acc)
		for _, e := range evs {
			if e.SecretID == ids[acc] {
				t.Errorf("event %s of the visitor survived the purge", e.EventID)
			}
		}
	}
	if evs, _ := allRows(t, in.store, a); len(evs) != 1 {
		t.Errorf("account a holds %d events after the purge, want the other visitor's 1", len(evs))
	}
	_, opTombs, _ := operatorFeed(t, in, admin, a, opCursor)
	var targets []string
	for _, tb := range opTombs {
		if tb["kind"] == persistence.TombstoneEvent {
			targets = append(targets, tb["target"])
		}
	}
	slices.Sort(targets)
	slices.Sort(visEventIDs)
	if !slices.Equal(targets, visEventIDs) {
		t.Errorf("operator got event tombstones %v, want %v", targets, visEventIDs)
	}
	// The visitor's cache follows through the same feed.
	events, tombs, _, _ = vis.sync(cursor)
	if len(events) != 0 || len(tombs) != 4 {
		t.Errorf("visitor resync: got %d events, %d tombstones, want 0 and 4", len(events), len(tombs))
	}

	// Forget: secrets and cookie go.
	r2 := vis.do("POST", "/api/purge", `{"forget":true}`).must(t, 204)
	if r2.user == nil || r2.user.MaxAge >= 0 || vis.user != "" {
		t.Errorf("user cookie not cleared: %+v", r2.user)
	}
	for _, acc := range []string{a, b} {
		_, secrets := allRows(t, in.store, acc)
		for _, s := range secrets {
			if s.SecretID == ids[acc] {
				t.Errorf("secret %s of the visitor survived forget", s.KeyID)
			}
		}
	}
	if _, secrets := allRows(t, in.store, a); len(secrets) != 1 || secrets[0].KeyID != ko {
		t.Errorf("account a holds secrets %v, want only the other visitor's", secrets)
	}
	var page visitorPage
	vis.do("GET", "/api/events", nil).must(t, 200).decode(t, &page)
	if len(page.Events)+len(page.Tombstones) != 0 {
		t.Errorf("forgotten visitor still has a feed: %+v", page)
	}
}

// TestNothingBeforeConsent is P6 for direct requests: without consent=allow
// the exchange and events answer 204, set no cookie and store nothing.
func TestNothingBeforeConsent(t *testing.T) {
	t.Parallel()
	for _, consent := range []string{"", "deny", "Allow", "allow "} {
		t.Run(fmt.Sprintf("consent %q", consent), func(t *testing.T) {
			t.Parallel()
			e := newVisitorEnv(t, envOptions{})
			a := e.account("site")
			v := newVisitor(t, e.h)
			v.consent = consent
			_, r := v.exchange(a)
			r.must(t, http.StatusNoContent)
			if r.cookieSet || v.user != "" || len(r.body) != 0 {
				t.Errorf("exchange without consent: cookie %v, body %q", r.user, r.body)
			}
			v.user = keys.NewUserID()
			key := keys.NewKeyID()
			v.secrets[key] = visitorSecret{accountID: a.ID, secret: keys.NewKey()}
			r = v.send(a.ID, key, "https://site.example/")
			r.must(t, http.StatusNoContent)
			if r.cookieSet || len(r.body) != 0 {
				t.Errorf("events without consent: cookie %v, body %q", r.user, r.body)
			}
			if c := countRows(t, e.store, a.ID); c != (counts{}) {
				t.Errorf("got rows %+v, want none", c)
			}
		})
	}
}

// TestPseudonymsUnlinkable is P9, with the request log's silence: a visitor
// in two accounts has distinct secret ids; their user id, address, key ids,
// payloads and query strings appear nowhere in the database files or the
// log.
func TestPseudonymsUnlinkable(t *testing.T) {
	t.Parallel()
	e := newVisitorEnv(t, envOptions{})
	a, b := e.account("site a"), e.account("site b")
	v := newVisitor(t, e.h)
	v.ip = "198.51.100.173"
	ka, r := v.exchange(a)
	r.must(t, 201)
	kb, r := v.exchange(b)
	r.must(t, 201)
	marker := "marker-" + keys.NewKeyID()
	v.send(a.ID, ka, "https://a.example/?q="+marker).must(t, 201)
	v.send(b.ID, kb, "https://b.example/"+marker).must(t, 201)
	v.do("GET", "/api/events?limit=1", nil).must(t, 200)
	v.do("GET", "/api/events/export", nil).must(t, 200)
	v.do("GET", "/api/exchange?accountId="+a.ID+"&"+marker+"=1", nil).must(t, 200)
	v.do("POST", "/api/purge", fmt.Sprintf(`{"accountId":%q}`, b.ID)).must(t, 204)

	_, sa := allRows(t, e.store, a.ID)
	_, sb := allRows(t, e.store, b.ID)
	if len(sa) != 1 || len(sb) != 1 || sa[0].SecretID == sb[0].SecretID {
		t.Fatalf("got secrets %v and %v, want one each with distinct secret ids", sa, sb)
	}

	raw, _ := keys.ParseUserID(v.user)
	dump := e.dbBytes()
	logs := e.logs.String()
	forbidden := map[string][]byte{
		"user id (hex)":       []byte(v.user),
		"user id (raw)":       raw,
		"user id (base64url)": []byte(base64.RawURLEncoding.EncodeToString(raw)),
		"user id (base64)":    []byte(base64.StdEncoding.EncodeToString(raw)),
		"user id (HEX)":       []byte(strings.ToUpper(hex.EncodeToString(raw))),
	}
	for what, needle := range forbidden {
		if bytes.Contains(dump, needle) {
			t.Errorf("database holds the %s", what)
		}
		if strings.Contains(logs, string(needle)) {
			t.Errorf("log holds the %s", what)
		}
	}
	for what, needle := range map[string]string{
		"address": v.ip, "secret id": sa[0].SecretID, "key id": ka, "query": marker, "account id": a.ID,
	} {
		if strings.Contains(logs, needle) {
			t.Errorf("log holds the visitor's %s", what)
		}
	}
	if !strings.Contains(logs, "route=/api/events") || !strings.Contains(logs, "route=/api/exchange") {
		t.Errorf("log lacks the route patterns:\n%s", logs)
	}
}
