// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// TestSeedDemo reads the demo data back the way the dashboard does, starting
// from nothing but the demo login's e-mail address and password: login key,
// KEK, private key, user secrets, events.
func TestSeedDemo(t *testing.T) {
	t.Parallel()
	secret := make([]byte, 32)
	secret[0] = 1
	cfg, err := demoConfig(func(string) string { return "" }, map[string]string{
		"OFFEN_DATABASE_CONNECTIONSTRING": filepath.Join(t.TempDir(), "offen.db"),
		"OFFEN_SECRET":                    "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	const users = 60
	origins := []string{"http://localhost:9877"}
	account, err := seedDemo(t.Context(), logger, cfg, secret, users, origins)
	if err != nil {
		t.Fatal(err)
	}

	store, err := newStore(t.Context(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	instance, err := keys.DeriveInstanceKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	index, err := keys.EmailIndex(instance.EmailIndex, demoEmail)
	if err != nil {
		t.Fatal(err)
	}
	login, err := store.FindLoginByEmailIndex(t.Context(), index)
	if err != nil {
		t.Fatalf("find the demo login: %v", err)
	}
	lk, err := keys.DeriveLoginKeys(demoPassword, login.Credentials.KDFSalt, keys.KDFIterations)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := keys.VerifyAuthKey(login.Credentials.AuthHash, lk.AuthKey); err != nil || !ok {
		t.Fatalf("the demo password does not log in: %v", err)
	}
	loginKey, err := keys.UnwrapLoginKey(lk.WrapKey, login.ID, login.Credentials.WrappedLoginKey)
	if err != nil {
		t.Fatal(err)
	}
	grant, err := store.FindGrant(t.Context(), login.ID, account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if grant.Role != persistence.RoleAdmin {
		t.Errorf("got role %q, want admin", grant.Role)
	}
	kek, err := keys.UnwrapKEK(loginKey, account.ID, grant.WrappedKEK)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := store.FindAccount(t.Context(), account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(stored.AllowedOrigins, ",") != origins[0] {
		t.Errorf("got allowed origins %v, want %v", stored.AllowedOrigins, origins)
	}
	priv, err := keys.DecryptPrivateKey(kek, account.ID, stored.EncryptedPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := keys.NewCipher(kek)
	if err != nil {
		t.Fatal(err)
	}
	goals, err := keys.OpenA1(kc, []byte("offen/v1/goals|"+account.ID), stored.Goals)
	if err != nil {
		t.Fatalf("the demo goals do not open with the KEK: %v", err)
	}
	var defs struct {
		Goals   []map[string]string `json:"goals"`
		Funnels []struct {
			Steps []map[string]string `json:"steps"`
		} `json:"funnels"`
	}
	if err := json.Unmarshal(goals, &defs); err != nil || len(defs.Goals) == 0 || len(defs.Funnels) != 1 || len(defs.Funnels[0].Steps) < 2 {
		t.Errorf("got goals %s, %v; want goals and a funnel", goals, err)
	}

	secrets := map[string][]byte{}
	secretIDs := map[string]bool{}
	q := persistence.FeedQuery{Limit: persistence.MaxFeedLimit}
	for {
		page, err := store.AccountSecrets(t.Context(), account.ID, q, persistence.FeedItems{Secret: func(s persistence.Secret) error {
			raw, err := keys.UnwrapUserSecret(priv, account.ID, s.WrappedSecret)
			secrets[s.KeyID] = raw
			secretIDs[s.SecretID] = true
			return err
		}})
		if err != nil {
			t.Fatal(err)
		}
		if !page.More {
			break
		}
		q.Since = page.Next
	}
	if len(secrets) != users || len(secretIDs) != users {
		t.Fatalf("got %d secrets of %d visitors, want %d", len(secrets), len(secretIDs), users)
	}

	now := time.Now()
	var events, referred, campaigns, mobile, live, notFound int
	sessions := map[string]int{}
	types := map[string]int{}
	devices := map[string]bool{}
	oldest := now
	q = persistence.FeedQuery{Limit: persistence.MaxFeedLimit}
	for {
		page, err := store.AccountEvents(t.Context(), account.ID, q, persistence.FeedItems{Event: func(e persistence.Event) error {
			c, err := keys.NewCipher(secrets[e.KeyID])
			if err != nil {
				return err
			}
			plain, err := keys.DecryptEvent(c, account.ID, e.Payload)
			if err != nil {
				return err
			}
			var p demoEvent
			if err := json.Unmarshal(plain, &p); err != nil {
				return err
			}
			ts, err := time.Parse(time.RFC3339, p.Timestamp)
			if err != nil {
				return err
			}
			if p.V != 1 || !strings.HasPrefix(p.Href, demoSite+"/") || len(p.SessionID) != 32 || p.Browser == "" || p.OS == "" || p.Device == "" || p.Screen == "" {
				t.Errorf("unexpected event %s", plain)
			}
			switch {
			case p.Type == "PAGEVIEW" && p.Name == "" && p.Target == "":
			case p.Type == "EVENT" && p.Name != "" && len(p.Props) > 0:
			case (p.Type == "OUTBOUND" || p.Type == "DOWNLOAD") && strings.HasPrefix(p.Target, "https://"):
			default:
				t.Errorf("unexpected event %s", plain)
			}
			types[p.Type]++
			devices[p.Device] = true
			if p.NotFound {
				notFound++
			}
			if ts.After(now) || ts.Before(now.Add(-cfg.App.Retention.Duration())) {
				t.Errorf("timestamp %s outside the retention period", p.Timestamp)
			}
			if ts.Before(oldest) {
				oldest = ts
			}
			if now.Sub(ts) < 15*time.Minute {
				live++
			}
			if p.Referrer != "" && !strings.HasPrefix(p.Referrer, demoSite) {
				referred++
			}
			if strings.Contains(p.Href, "utm_campaign=") {
				campaigns++
			}
			if p.IsMobile {
				mobile++
			}
			sessions[e.SecretID+p.SessionID]++
			events++
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if !page.More {
			break
		}
		q.Since = page.Next
	}
	if events < 2*users {
		t.Errorf("got %d events for %d visitors, want a few per visitor", events, users)
	}
	if len(sessions) <= users {
		t.Errorf("got %d sessions for %d visitors, want returning visitors", len(sessions), users)
	}
	if referred == 0 || campaigns == 0 || mobile == 0 || live == 0 {
		t.Errorf("want referrers, campaigns, mobile and live events; got %d, %d, %d, %d", referred, campaigns, mobile, live)
	}
	if types["EVENT"] == 0 || types["OUTBOUND"]+types["DOWNLOAD"] == 0 || notFound == 0 || !devices["desktop"] || !devices["mobile"] {
		t.Errorf("want custom events, link clicks, not-found pages and several devices; got %v, %d not found, devices %v", types, notFound, devices)
	}
	if now.Sub(oldest) < cfg.App.Retention.Duration()/2 {
		t.Errorf("oldest event %s: want a history over the retention period", oldest)
	}
}

// TestIntroPage: the demo's intro page fits a phone's screen (viewport
// meta tag) and embeds the tag of the account.
func TestIntroPage(t *testing.T) {
	t.Parallel()
	page, err := renderIntroPage(introPage{PublicURL: "http://localhost:9876", AccountID: "9b63c4d8-3a6c-4e8e-9a55-2f1d7c0e5b11", Email: demoEmail, Password: demoPassword})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<script async src="http://localhost:9876/script.js" data-account-id="9b63c4d8-3a6c-4e8e-9a55-2f1d7c0e5b11"></script>`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the intro page lacks %s", want)
		}
	}
}
