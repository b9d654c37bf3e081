// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The user cookie renewal writes the header http.SetCookie would write.
func TestSetUserCookieMatchesSetCookie(t *testing.T) {
	for _, url := range []string{"https://offen.example.org", "http://offen.example.org", "http://localhost:8080"} {
		for _, retention := range []time.Duration{0, 30 * 24 * time.Hour} {
			v := newVisitors(nil, Options{PublicURL: url, Retention: retention}, nil, nil, nil)
			for _, id := range []string{"0123456789abcdef0123456789abcdef", "NOT HEX;", ""} {
				got, want := httptest.NewRecorder(), httptest.NewRecorder()
				v.setUserCookie(got, id)
				http.SetCookie(want, v.userCookie(id, int(v.retention/time.Second)))
				if g, w := got.Header().Values("Set-Cookie"), want.Header().Values("Set-Cookie"); len(g) != 1 || len(w) != 1 || g[0] != w[0] {
					t.Errorf("%s, %v, %q: got %q, want %q", url, retention, id, g, w)
				}
			}
		}
	}
}
