// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/server"
)

// TestPutRequiresField: a PUT without its field ({} or null) is 400 and
// changes nothing; an explicit empty value clears.
func TestPutRequiresField(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	origins := "/api/accounts/" + w.a + "/allowed-origins"
	styles := "/api/accounts/" + w.a + "/banner-styles"
	put := func(path, body string) reply {
		return w.do(call{method: "PUT", path: path, cookie: w.admin.cookie, body: body})
	}
	put(origins, `{"origins":["https://site.example"]}`).must(t, 200)
	put(styles, `{"css":".offen-banner{color:#333}"}`).must(t, 200)

	for _, body := range []string{`{}`, `null`, `{"origins":null}`} {
		r := put(origins, body)
		r.must(t, 400)
		if !strings.Contains(string(r.body), `"origins":"required`) {
			t.Errorf("allowed origins %s: got %s, want the field named", body, r.body)
		}
	}
	for _, body := range []string{`{}`, `null`, `{"dryRun":false}`, `{"css":null}`} {
		r := put(styles, body)
		r.must(t, 400)
		if !strings.Contains(string(r.body), `"css":"required`) {
			t.Errorf("banner styles %s: got %s, want the field named", body, r.body)
		}
	}
	a, err := w.store.FindAccount(t.Context(), w.a)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.AllowedOrigins) != 1 || a.BannerCSS == "" {
		t.Fatalf("a rejected PUT changed the account: origins %v, css %q", a.AllowedOrigins, a.BannerCSS)
	}

	if r := put(origins, `{"origins":[]}`); r.status != 200 || !strings.Contains(string(r.body), `"origins":[]`) {
		t.Errorf("clearing the origins: %d %s", r.status, r.body)
	}
	put(styles, `{"css":""}`).must(t, 200)
	a, _ = w.store.FindAccount(t.Context(), w.a)
	if len(a.AllowedOrigins) != 0 || a.BannerCSS != "" {
		t.Errorf("explicit empty values did not clear: origins %v, css %q", a.AllowedOrigins, a.BannerCSS)
	}
}

// TestJSONContentType: request bodies are JSON in UTF-8; another charset or
// parameter is refused (under /api/ by the CSRF check, 403, elsewhere by
// decode, 415).
func TestJSONContentType(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	path := "/api/accounts/" + w.a + "/allowed-origins"
	for ct, want := range map[string]int{
		"application/json":                        200,
		"application/json; charset=utf-8":         200,
		"application/json; charset=UTF-8":         200,
		"application/json;charset=\"utf-8\"":      200,
		"application/json; charset=iso-8859-1":    415,
		"application/json; charset=utf-16":        415,
		"application/json; charset=utf-8; x=y":    415,
		"application/json; boundary=x":            415,
		"application/json-patch+json":             415,
		"application/json; charset=utf-8; utf-16": 415,
	} {
		r := w.do(call{method: "PUT", path: path, cookie: w.admin.cookie, body: `{"origins":[]}`,
			headers: map[string]string{"Content-Type": ct}})
		if r.status != want && !(want == 415 && r.status == 403) {
			t.Errorf("Content-Type %q: got %d %s, want %d", ct, r.status, r.body, want)
		}
		if want != 200 {
			var body errorJSON
			if err := json.Unmarshal(r.body, &body); err != nil || body.Status != r.status {
				t.Errorf("Content-Type %q: got %s, want the JSON error", ct, r.body)
			}
		}
	}
}

type errorJSON struct {
	Error  string            `json:"error"`
	Status int               `json:"status"`
	Fields map[string]string `json:"fields"`
}

// TestEventsCheapChecksFirst: an events request with 15,000 payloads (the
// 60 KB of the finding) gets a small 400 that names a few problems and
// counts the rest, costs the visitor's throttle like a full request, and
// without consent or user cookie is answered before any payload is looked
// at.
func TestEventsCheapChecksFirst(t *testing.T) {
	t.Parallel()
	e := newVisitorEnv(t, envOptions{})
	a := e.account("site")
	v := newVisitor(t, e.h)
	keyID, r := v.exchange(a)
	r.must(t, 201)

	many := `{"accountId":"` + a.ID + `","keyId":"` + keyID + `","payloads":[` + strings.Repeat(`"x",`, 14999) + `"x"]}`
	if len(many) < 60_000 || len(many) > 64<<10 {
		t.Fatalf("the request is %d bytes", len(many))
	}
	r = v.do("POST", "/api/events", many)
	r.must(t, 400)
	if len(r.body) > 1024 {
		t.Errorf("the 400 for 15,000 payloads is %d bytes: %.200s", len(r.body), r.body)
	}
	t.Logf("a %d-byte request with 15,000 payloads: %d-byte 400 %s", len(many), len(r.body), r.body)

	// Ten bad payloads: three named, the rest counted.
	bad := make([]string, 10)
	for i := range bad {
		bad[i] = fmt.Sprintf("a1.not-%d", i)
	}
	r = v.do("POST", "/api/events", map[string]any{"accountId": a.ID, "keyId": keyID, "payloads": bad})
	r.must(t, 400)
	var body errorJSON
	r.decode(t, &body)
	named := 0
	for k := range body.Fields {
		if strings.HasPrefix(k, "payloads[") {
			named++
		}
	}
	if named == 0 || named > 3 || !strings.Contains(body.Fields["payloads"], "10 of 10") {
		t.Errorf("got fields %v, want at most 3 payloads named and a count of 10", body.Fields)
	}

	// The cheap checks come first: no consent is 204, no user cookie 409,
	// whatever the payloads.
	anon := newVisitor(t, e.h)
	anon.consent = ""
	anon.do("POST", "/api/events", many).must(t, 204)
	anon.consent = "allow"
	anon.do("POST", "/api/events", many).must(t, 409)

	// Invalid requests use up the visitor's budget (60 events, burst 60):
	// each costs what ten events cost.
	statuses := map[int]int{}
	for range 10 {
		statuses[v.do("POST", "/api/events", many).status]++
	}
	if statuses[429] == 0 {
		t.Errorf("invalid requests were never throttled: %v", statuses)
	}
}

// TestGoErrorsAreJSON: the 4xx that net/http writes itself, before any
// handler, come as the JSON error of every other response, also after a
// normal request on the same connection.
func TestGoErrorsAreJSON(t *testing.T) {
	t.Parallel()
	store := persistencetest.NewSQLiteStore(t)
	h := server.New(slog.New(slog.DiscardHandler), server.Options{PublicURL: "http://localhost"}, store, nil, nil, nil, testBundle())
	ctx, cancel := context.WithCancel(t.Context())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Listen(ctx, slog.New(slog.DiscardHandler), server.ListenOptions{
			Addr: "127.0.0.1:0", Listening: func(a net.Addr) { addr <- a.String() },
		}, h)
	}()
	t.Cleanup(func() { cancel(); <-done })
	target := <-addr

	ok := "GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tc := range []struct {
		name    string
		request string
		status  int
	}{
		{"huge headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 80<<10) + "\r\n\r\n", 431},
		{"bad Content-Length", "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400},
		{"NUL in the path", "GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"control bytes in Cookie", "GET / HTTP/1.1\r\nHost: x\r\nCookie: user=\x01\x02\r\n\r\n", 400},
		{"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", target)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			go c.Write([]byte(ok + tc.request))
			br := bufio.NewReader(c)
			first, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, first.Body)
			if first.StatusCode != 200 || first.Header.Get("X-Request-Id") == "" {
				t.Fatalf("the normal request before: %d %v", first.StatusCode, first.Header)
			}
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			var body errorJSON
			if err := json.Unmarshal(b, &body); err != nil || res.StatusCode != tc.status || body.Status != tc.status || body.Error == "" {
				t.Fatalf("got %d %q %s, want the JSON %d", res.StatusCode, res.Header.Get("Content-Type"), b, tc.status)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}
