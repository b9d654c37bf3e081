// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"
	"net/url"
	"strings"
)

// csrfError refuses a request a browser may have sent for another site.
func csrfError(reason string) error {
	return &httpError{status: http.StatusForbidden, message: "forbidden: " + reason}
}

// protectCSRF is middleware for every route under /api/ (PROTOCOL §7.1):
// a POST, PUT, PATCH or DELETE must carry Content-Type application/json, an
// Origin (when present) equal to one of origins, and Sec-Fetch-Site (when
// present) equal to same-origin; anything else is refused with 403 before
// the handler runs. A form post, a fetch with text/plain or a navigation
// from another site can therefore never change state; scripted clients that
// send none of these headers carry no victim's cookies.
//
// origins are the instance origins (the public URL's and every autotls
// host's), compared after normalization (lower case, default port dropped).
func protectCSRF(origins []string) func(http.Handler) http.Handler {
	allowed := map[string]bool{}
	for _, o := range origins {
		if n, ok := normalizeOrigin(o); ok {
			allowed[n] = true
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := checkCSRF(r, allowed); err != nil {
				respondError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func checkCSRF(r *http.Request, allowed map[string]bool) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		return csrfError("content type must be application/json")
	}
	if vs := r.Header.Values("Origin"); len(vs) > 0 {
		n, ok := normalizeOrigin(vs[0])
		if len(vs) != 1 || !ok || !allowed[n] {
			return csrfError("origin not allowed")
		}
	}
	if vs := r.Header.Values("Sec-Fetch-Site"); len(vs) > 0 {
		if len(vs) != 1 || vs[0] != "same-origin" {
			return csrfError("cross-site request")
		}
	}
	return nil
}

// normalizeOrigin turns an origin (or a URL) into scheme://host[:port] with
// a lower-case scheme and host and without a default port.
func normalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

// instanceOrigins are the origins the CSRF check accepts: the public URL's
// and InstanceOrigins.
func (o Options) instanceOrigins() []string {
	return append([]string{o.PublicURL}, o.InstanceOrigins...)
}
