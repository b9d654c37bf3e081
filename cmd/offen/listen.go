// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/server"
)

// Ports of autocert mode: the ACME HTTP-01 challenge is always asked on 80,
// and browsers expect https on 443.
const (
	autocertHTTPPort  = 80
	autocertHTTPSPort = 443
)

// listenOptions says where and how serve listens: plain HTTP on the
// configured port, TLS from files on that port, or autocert on 443 with the
// challenge and redirect listener on 80 and the certificates kept, encrypted,
// in the database.
func listenOptions(cfg Config, host string, certs persistence.Certificates, logger *slog.Logger) (server.ListenOptions, error) {
	opts := server.ListenOptions{Addr: net.JoinHostPort(host, strconv.Itoa(cfg.Server.Port))}
	s := cfg.Server
	switch {
	case s.SSLCertificate != "":
		opts.TLS = &server.TLSOptions{CertFile: s.SSLCertificate, KeyFile: s.SSLKey}
	case len(s.AutoTLS) > 0:
		certKeys, err := certificateKeys(cfg)
		if err != nil {
			return opts, err
		}
		opts.Addr = net.JoinHostPort(host, strconv.Itoa(autocertHTTPSPort))
		opts.TLS = &server.TLSOptions{
			Hosts:        s.AutoTLS,
			Email:        s.LetsEncryptEmail,
			DirectoryURL: s.ACMEDirectory,
			Cache:        server.NewCertificateCache(certs, logger, certKeys...),
			HTTPAddr:     net.JoinHostPort(host, strconv.Itoa(autocertHTTPPort)),
		}
	}
	return opts, nil
}

// certificateKeys derives the certificate cache keys from OFFEN_SECRET and,
// during a rotation, OFFEN_SECRET_PREVIOUS (read only).
func certificateKeys(cfg Config) ([][]byte, error) {
	var out [][]byte
	for _, s := range []struct{ name, value string }{
		{"OFFEN_SECRET", cfg.Secrets.Secret},
		{"OFFEN_SECRET_PREVIOUS", cfg.Secrets.SecretPrevious},
	} {
		if s.value == "" {
			continue
		}
		secret, err := decodeSecret(s.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		k, err := keys.DeriveInstanceKeys(secret)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		out = append(out, k.Certificates)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("OFFEN_SECRET: required to encrypt the certificate cache")
	}
	return out, nil
}

// trustedProxies turns OFFEN_SERVER_TRUSTEDPROXIES into prefixes. In reverse
// proxy mode without a list, a proxy on the same machine is trusted.
func trustedProxies(cfg Config) ([]netip.Prefix, error) {
	list := cfg.Server.TrustedProxies
	if cfg.Server.ReverseProxy && len(list) == 0 {
		list = []string{"127.0.0.0/8", "::1/128"}
	}
	p, err := server.ParseTrustedProxies(list)
	if err != nil {
		return nil, fmt.Errorf("OFFEN_SERVER_TRUSTEDPROXIES: %w", err)
	}
	return p, nil
}
