// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// hostSite is the operator's website: a plain HTTP server on another port of
// localhost (another origin, same site, like a sibling subdomain in
// production) whose pages embed the script of an instance.
type hostSite struct {
	// Origin is http://localhost:<port>.
	Origin string
}

// startHostSite serves, for any path, a page that embeds offenURL's script for
// accountID. Its title carries the path (so markers in URLs reach the title
// too); /link…?to=<url> is a page whose only link points to url, for
// referrers. Pages send Referrer-Policy: unsafe-url, so that full URLs
// travel as referrers (the worst case for the privacy scan).
func startHostSite(t *testing.T, offenURL, accountID string) *hostSite {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &hostSite{Origin: "http://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Referrer-Policy", "unsafe-url")
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/link") {
			to := r.URL.Query().Get("to")
			fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Links</title></head>`+
				`<body><main><h1>Links</h1><a id="go" href="%s">Go on</a></main></body></html>`, html.EscapeString(to))
			return
		}
		canonical := ""
		if c := r.URL.Query().Get("canonical"); c != "" {
			canonical = `<link rel="canonical" href="` + html.EscapeString(s.Origin+c) + `">`
		}
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Page %s</title>%s`+
			`<script async src="%s/script.js" data-account-id="%s"></script></head>`+
			`<body><main><h1>A page of the operator's site</h1><p>%s</p><a id="next" href="/next-page">Next</a></main></body></html>`,
			html.EscapeString(strings.Trim(r.URL.Path, "/")), canonical, offenURL, accountID, html.EscapeString(r.URL.Path))
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return s
}
