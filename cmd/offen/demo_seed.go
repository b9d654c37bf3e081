// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// The demo's generated history: what visitors of a small product site do
// over the retention period. Everything is plaintext of PROTOCOL §1 ("Event
// plaintext, version 1") until writeHistory encrypts it as the vault would.

// demoSite is the origin of the generated page views.
const demoSite = "https://www.example.com"

// demoVisitor is one generated visitor: a user id and their events, oldest
// first, as JSON plaintext.
type demoVisitor struct {
	userID []byte
	events [][]byte
}

// demoEvent is the plaintext of one event (keys/PROTOCOL.md §12 for the
// fields after IsMobile).
type demoEvent struct {
	V         int               `json:"v"`
	Type      string            `json:"type"`
	Href      string            `json:"href"`
	Referrer  string            `json:"referrer"`
	Pageload  *int              `json:"pageload"`
	Timestamp string            `json:"timestamp"`
	SessionID string            `json:"sessionId"`
	Geo       *string           `json:"geo"`
	IsMobile  bool              `json:"isMobile"`
	Name      string            `json:"name,omitempty"`
	Props     map[string]string `json:"props,omitempty"`
	Target    string            `json:"target,omitempty"`
	NotFound  bool              `json:"notFound,omitempty"`
	demoDevice
}

// demoDevice holds the device fields the vault derives.
type demoDevice struct {
	Browser string `json:"browser"`
	OS      string `json:"os"`
	Device  string `json:"device"`
	Screen  string `json:"screen"`
}

var demoDesktops = []weighted[demoDevice]{
	{demoDevice{"Chrome", "Windows", "desktop", "xlarge"}, 24}, {demoDevice{"Edge", "Windows", "desktop", "large"}, 8},
	{demoDevice{"Firefox", "Windows", "desktop", "xlarge"}, 6}, {demoDevice{"Safari", "macOS", "desktop", "xlarge"}, 12},
	{demoDevice{"Chrome", "macOS", "desktop", "large"}, 8}, {demoDevice{"Firefox", "Linux", "desktop", "large"}, 5},
	{demoDevice{"Chrome", "ChromeOS", "desktop", "large"}, 2}, {demoDevice{"Opera", "Windows", "desktop", "large"}, 1},
}

var demoMobiles = []weighted[demoDevice]{
	{demoDevice{"Safari", "iOS", "mobile", "small"}, 30}, {demoDevice{"Chrome", "Android", "mobile", "small"}, 28},
	{demoDevice{"Samsung Internet", "Android", "mobile", "small"}, 6}, {demoDevice{"Firefox", "Android", "mobile", "small"}, 2},
	{demoDevice{"Safari", "iPadOS", "tablet", "medium"}, 8}, {demoDevice{"Chrome", "Android", "tablet", "medium"}, 3},
}

// demoGoals are the demo account's goals and funnel (sealed under its KEK,
// keys/PROTOCOL.md §12); the generated actions below reach them.
const demoGoals = `{"v":1,` +
	`"goals":[{"name":"Signed up","event":"Signup"},{"name":"Downloaded","page":"/download"},{"name":"Read the blog","page":"/blog/*"}],` +
	`"funnels":[{"name":"Sign-up","steps":[{"page":"/"},{"page":"/pricing"},{"event":"Signup"}]}]}`

type weighted[T any] struct {
	value  T
	weight int
}

// pick returns a value of list with probability proportional to its weight.
func pick[T any](r *rand.Rand, list []weighted[T]) T {
	total := 0
	for _, w := range list {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range list {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return list[len(list)-1].value
}

var demoPages = []weighted[string]{
	{"/", 30}, {"/features/", 12}, {"/pricing/", 10}, {"/download/", 5},
	{"/blog/", 8}, {"/blog/privacy-first-analytics/", 7}, {"/blog/consent-done-right/", 5},
	{"/blog/self-hosting-in-ten-minutes/", 4}, {"/docs/", 6}, {"/docs/getting-started/", 6},
	{"/docs/configuration/", 3}, {"/about/", 4}, {"/contact/", 3},
}

// demoReferrers are the first page's referrer of a session ("" for none).
// Cross-origin referrers carry no query (the vault removes it).
var demoReferrers = []weighted[string]{
	{"", 40},
	{"https://www.google.com/", 18}, {"https://duckduckgo.com/", 5}, {"https://www.bing.com/", 3},
	{"https://www.ecosia.org/", 3}, {"https://search.brave.com/", 1},
	{"https://www.facebook.com/", 3}, {"https://www.linkedin.com/", 3}, {"https://www.reddit.com/r/privacy/", 3},
	{"https://news.ycombinator.com/", 3}, {"https://mastodon.social/", 2}, {"https://t.co/", 1},
	{"https://en.wikipedia.org/wiki/Web_analytics", 3}, {"https://github.com/offen/offen", 4},
	{"https://blog.example.org/tools-we-like/", 4},
}

// demoCampaigns are the utm parameters of campaign sessions' landing pages.
var demoCampaigns = []weighted[string]{
	{"utm_source=newsletter&utm_medium=email&utm_campaign=spring-launch", 5},
	{"utm_source=mastodon&utm_medium=social&utm_campaign=launch-week", 3},
	{"utm_source=partner-blog&utm_medium=referral&utm_campaign=integrations", 2},
	{"utm_source=newsletter&utm_medium=email&utm_campaign=autumn-update", 3},
}

// demoCountries are guessed from time zones, so a few visitors have none.
var demoCountries = []weighted[string]{
	{"DE", 22}, {"US", 18}, {"FR", 10}, {"GB", 8}, {"ES", 6}, {"NL", 5}, {"PT", 4}, {"BR", 4},
	{"IN", 4}, {"VN", 3}, {"CA", 3}, {"AT", 3}, {"CH", 3}, {"IT", 3}, {"SE", 2}, {"PL", 2},
	{"JP", 2}, {"AU", 2}, {"", 2},
}

// demoHours weights the UTC hour at which sessions start: a European and
// American audience, quiet at night.
var demoHours = func() []weighted[int] {
	w := []int{2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 10, 10, 10, 10, 9, 9, 8, 8, 7, 6, 4, 3}
	out := make([]weighted[int], 24)
	for h := range out {
		out[h] = weighted[int]{h, w[h]}
	}
	return out
}()

// generateHistory makes users visitors with sessions between now-retention
// and now, in parallel on workers goroutines. A few visitors are active in
// the last minutes, so that the real-time panel shows something.
func generateHistory(users int, now time.Time, retention time.Duration, workers int) []demoVisitor {
	out := make([]demoVisitor, users)
	workers = max(1, min(workers, users))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
			for i := w; i < users; i += workers {
				out[i] = generateVisitor(r, now, retention, i%50 == 7)
			}
		})
	}
	wg.Wait()
	return out
}

func generateVisitor(r *rand.Rand, now time.Time, retention time.Duration, live bool) demoVisitor {
	v := demoVisitor{userID: randomBytes(r, keys.UserIDSize)}
	mobile := r.Float64() < 0.38
	device := pick(r, demoDesktops)
	if mobile {
		device = pick(r, demoMobiles)
	}
	geo := pick(r, demoCountries)
	// First visit anywhere in the retention period; returning visitors come
	// back after exponentially distributed gaps (mean 12 days).
	day := now.Add(-time.Duration(r.Float64() * float64(retention-24*time.Hour)))
	sessions := 1
	for sessions < 12 && r.Float64() < 0.45 {
		sessions++
	}
	var starts []time.Time
	for range sessions {
		start := time.Date(day.Year(), day.Month(), day.Day(), pick(r, demoHours), r.IntN(60), r.IntN(60), r.IntN(1000)*int(time.Millisecond), time.UTC)
		if start.After(now.Add(-time.Hour)) {
			break
		}
		starts = append(starts, start)
		day = day.Add(time.Duration((1 + r.ExpFloat64()*12) * float64(24*time.Hour)))
	}
	if live || len(starts) == 0 {
		starts = append(starts, now.Add(-time.Duration(r.IntN(600))*time.Second))
	}
	for _, start := range starts {
		v.events = append(v.events, generateSession(r, start, now, mobile, geo, device)...)
	}
	return v
}

func generateSession(r *rand.Rand, start, now time.Time, mobile bool, geo string, device demoDevice) [][]byte {
	sessionID := hex.EncodeToString(randomBytes(r, 16))
	pages := 1
	if r.Float64() > 0.42 {
		pages = 2
		for pages < 12 && r.Float64() < 0.55 {
			pages++
		}
	}
	var out [][]byte
	t := start
	page := pick(r, demoPages)
	referrer := pick(r, demoReferrers)
	query := ""
	if r.Float64() < 0.12 {
		query = "?" + pick(r, demoCampaigns)
	}
	for i := range pages {
		if i > 0 {
			t = t.Add(time.Duration((3 + r.ExpFloat64()*50) * float64(time.Second)))
			if t.After(now) {
				break
			}
			next := pick(r, demoPages)
			for next == page {
				next = pick(r, demoPages)
			}
			referrer = demoSite + page + query
			page, query = next, ""
		}
		e := demoEvent{
			V: 1, Type: "PAGEVIEW", Href: demoSite + page + query, Referrer: referrer,
			Timestamp: t.UTC().Format("2006-01-02T15:04:05.000Z"), SessionID: sessionID, IsMobile: mobile,
		}
		if r.Float64() > 0.05 {
			ms := math.Exp(math.Log(650) + 0.5*r.NormFloat64())
			if mobile {
				ms *= 1.6
			}
			load := int(ms) + 1
			e.Pageload = &load
		}
		if geo != "" {
			g := geo
			e.Geo = &g
		}
		e.demoDevice = device
		if r.Float64() < 0.02 {
			e.Href, e.NotFound = demoSite+"/old-pricing/", true
		}
		b, _ := json.Marshal(e)
		out = append(out, b)
		if a, ok := demoAction(r, e, page); ok && !a.after(t, r).After(now) {
			b, _ := json.Marshal(a.event)
			out = append(out, b)
		}
	}
	return out
}

// demoActionOf is an action on a page and when it happened.
type demoActionOf struct {
	event demoEvent
	delay time.Duration
}

func (a *demoActionOf) after(t time.Time, r *rand.Rand) time.Time {
	at := t.Add(a.delay + time.Duration(r.IntN(1000))*time.Millisecond)
	a.event.Timestamp = at.UTC().Format("2006-01-02T15:04:05.000Z")
	return at
}

// demoAction returns now and then what a visitor does on a page besides
// reading it: signing up on the pricing page, downloading, following a link
// to the code from the blog, copying a snippet from the docs.
func demoAction(r *rand.Rand, pv demoEvent, page string) (demoActionOf, bool) {
	if pv.NotFound {
		return demoActionOf{}, false
	}
	a := pv
	a.Referrer, a.Pageload, a.NotFound = "", nil, false
	switch {
	case page == "/pricing/" && r.Float64() < 0.3:
		a.Type, a.Name, a.Props = "EVENT", "Signup", map[string]string{"plan": pick(r, []weighted[string]{{"solo", 5}, {"team", 3}, {"enterprise", 1}})}
	case page == "/download/" && r.Float64() < 0.5:
		a.Type, a.Target = "DOWNLOAD", demoSite+"/files/offen-"+pick(r, []weighted[string]{{"linux-amd64", 5}, {"darwin-arm64", 3}, {"windows-amd64", 2}})+".tar.gz"
	case len(page) > 6 && page[:6] == "/blog/" && r.Float64() < 0.15:
		a.Type, a.Target = "OUTBOUND", "https://github.com/offen/offen"
	case page == "/docs/getting-started/" && r.Float64() < 0.2:
		a.Type, a.Name, a.Props = "EVENT", "Copy snippet", map[string]string{"snippet": pick(r, []weighted[string]{{"script tag", 3}, {"docker run", 2}})}
	default:
		return demoActionOf{}, false
	}
	return demoActionOf{event: a, delay: time.Duration(5+r.IntN(40)) * time.Second}, true
}

// sealDemoGoals returns demoGoals sealed under the demo account's KEK, which
// it reaches through the recovery code the setup input comes with (cheap,
// where the password would need the full key derivation).
func sealDemoGoals(in persistence.SetupInput, recoveryCode []byte) (string, error) {
	rk, err := keys.DeriveRecoveryKeys(recoveryCode)
	if err != nil {
		return "", err
	}
	loginKey, err := keys.RecoveryUnwrapLoginKey(rk.Key, in.Login.ID, in.Login.Credentials.RecoveryWrappedLoginKey)
	if err != nil {
		return "", err
	}
	kek, err := keys.UnwrapKEK(loginKey, in.Account.ID, in.Grant.WrappedKEK)
	if err != nil {
		return "", err
	}
	c, err := keys.NewCipher(kek)
	if err != nil {
		return "", err
	}
	return keys.SealA1(c, []byte("offen/v1/goals|"+in.Account.ID), []byte(demoGoals)), nil
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeHistory stores the visitors as the vault would have sent them: per
// visitor a user secret wrapped (e1) to the account's public key under the
// secret id of their user id, and their events encrypted (a1) with it. The
// secrets are written first, then all events at once through the group
// commit of CreateEvents, which batches the concurrent requests into a few
// large transactions.
func writeHistory(ctx context.Context, store persistence.Store, account persistence.Account, visitors []demoVisitor, workers int) error {
	pub, err := keys.ParsePublicKey(account.PublicKey)
	if err != nil {
		return err
	}
	type sealed struct {
		secret   persistence.Secret
		payloads []string
	}
	prepared := make([]sealed, len(visitors))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	workers = max(1, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(visitors); i += workers {
				v := visitors[i]
				secretID, err := keys.SecretID(account.UserSalt, v.userID)
				if err != nil {
					fail(err)
					return
				}
				userSecret := keys.NewKey()
				wrapped, err := keys.WrapUserSecret(pub, account.ID, userSecret)
				if err != nil {
					fail(err)
					return
				}
				aead, err := keys.NewCipher(userSecret)
				if err != nil {
					fail(err)
					return
				}
				payloads := make([]string, len(v.events))
				for j, e := range v.events {
					payloads[j] = keys.EncryptEvent(aead, account.ID, e)
				}
				prepared[i] = sealed{
					secret: persistence.Secret{
						KeyID: keys.NewKeyID(), AccountID: account.ID, SecretID: secretID, WrappedSecret: wrapped,
					},
					payloads: payloads,
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	// Secrets: one transaction each (there is no bulk path), so a few
	// callers keep the single SQLite writer busy without queueing.
	next := make(chan int)
	for range workers * 2 {
		wg.Go(func() {
			for i := range next {
				if _, err := store.CreateSecret(ctx, prepared[i].secret); err != nil {
					fail(fmt.Errorf("secret: %w", err))
				}
			}
		})
	}
	for i := range prepared {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	// Events: requests of up to MaxEventsPerRequest payloads, many in flight
	// (below the ingest queue's length).
	var requests []persistence.NewEvents
	for _, s := range prepared {
		for j := 0; j < len(s.payloads); j += persistence.MaxEventsPerRequest {
			requests = append(requests, persistence.NewEvents{
				AccountID: account.ID, SecretID: s.secret.SecretID, KeyID: s.secret.KeyID,
				Payloads: s.payloads[j:min(j+persistence.MaxEventsPerRequest, len(s.payloads))],
			})
		}
	}
	inFlight := make(chan struct{}, 512)
	for _, in := range requests {
		inFlight <- struct{}{}
		wg.Go(func() {
			defer func() { <-inFlight }()
			if _, err := store.CreateEvents(ctx, in); err != nil {
				fail(fmt.Errorf("events: %w", err))
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
