// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// client is what resolveClient learned about the sender of a request.
type client struct {
	ip     netip.Addr
	secure bool
}

type clientKey struct{}

// resolveClient returns middleware that works out who sent each request
// (PROTOCOL.md §7.5) and stores it in the request context for clientIP and
// secureRequest. The client is the peer, unless the peer is one of trusted;
// then it is the first address in X-Forwarded-For, read from the right, that
// is not trusted, and X-Forwarded-Proto says whether the client used https.
// Headers from any other peer are ignored, so nobody can pick their own
// address for the rate limits.
//
// After requestID it keeps the client in the request's requestInfo rather
// than copying the request for a context value of its own.
func resolveClient(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := clientOf(r, trusted)
			if info := infoFrom(r.Context()); info != nil {
				info.client, info.hasClient = c, true
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
		})
	}
}

// clientOfRequest returns what resolveClient found out about r's client.
func clientOfRequest(r *http.Request) (client, bool) {
	if info := infoFrom(r.Context()); info != nil && info.hasClient {
		return info.client, true
	}
	c, ok := r.Context().Value(clientKey{}).(client)
	return c, ok
}

// clientIP is the address of the client that sent r: the key of per-client
// rate limits. It is never logged or stored. Without resolveClient in the
// chain it is the peer address.
func clientIP(r *http.Request) netip.Addr {
	if c, ok := clientOfRequest(r); ok {
		return c.ip
	}
	return peerAddr(r)
}

// secureRequest reports whether the client reached the instance over https:
// TLS on our own listener, or a trusted proxy's X-Forwarded-Proto: https.
func secureRequest(r *http.Request) bool {
	if c, ok := clientOfRequest(r); ok {
		return c.secure
	}
	return r.TLS != nil
}

func peerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func clientOf(r *http.Request, trusted []netip.Prefix) client {
	c := client{ip: peerAddr(r), secure: r.TLS != nil}
	if len(trusted) == 0 || !c.ip.IsValid() || !isTrusted(c.ip, trusted) {
		return c
	}
	if proto := firstListItem(r.Header.Values("X-Forwarded-Proto")); proto != "" {
		c.secure = strings.EqualFold(proto, "https")
	}
	hops := listItems(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseForwardedAddr(hops[i])
		if !ok {
			// A trusted proxy passed on something that is no address: the
			// last trusted hop is as far as we can tell.
			return c
		}
		c.ip = a
		if !isTrusted(a, trusted) {
			return c
		}
	}
	return c
}

// listItems splits comma-separated header values into trimmed, non-empty items.
func listItems(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

func firstListItem(values []string) string {
	if items := listItems(values); len(items) > 0 {
		return items[0]
	}
	return ""
}

// parseForwardedAddr reads an X-Forwarded-For item: an IPv4 or IPv6 address,
// optionally with a port ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseForwardedAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// ParseTrustedProxies reads CIDRs or single addresses ("10.0.0.0/8",
// "192.0.2.7", "::1") into prefixes for Options.TrustedProxies.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
