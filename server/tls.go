// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// TLSOptions choose how Listen serves TLS: from certificate files, or with
// certificates obtained by ACME (autocert). Set either the files or Hosts.
type TLSOptions struct {
	// CertFile and KeyFile are PEM files. They are read again when their
	// modification time changes, so a renewal needs no restart.
	CertFile, KeyFile string
	// ReloadInterval is how often the files are checked for changes; zero
	// means every 10 seconds.
	ReloadInterval time.Duration

	// Hosts are the names to obtain certificates for by ACME: the HTTP-01
	// challenge on HTTPAddr (or TLS-ALPN-01 on the TLS listener, which
	// autocert tries first); requests for other names get no certificate.
	Hosts []string
	// Email is the ACME account's contact address; may be empty.
	Email string
	// DirectoryURL is the ACME directory; empty means Let's Encrypt.
	DirectoryURL string
	// Cache keeps the account key, certificates and pending challenge tokens.
	// Instances that share one (NewCertificateCache on one database) share
	// certificates and answer each other's challenges. Required with Hosts.
	Cache autocert.Cache
	// HTTPAddr is the plain HTTP listener that answers HTTP-01 challenges and
	// redirects everything else to https; empty means ":80".
	HTTPAddr string
	// HTTPListening, when set, is called with the bound address of the HTTP
	// listener.
	HTTPListening func(net.Addr)
	// ACMEClient talks to the directory; nil means http.DefaultClient.
	ACMEClient *http.Client
}

func (o *TLSOptions) autocert() bool { return o != nil && len(o.Hosts) > 0 }

// listenTLS serves handler over TLS on opts.Addr, and with autocert also the
// challenge and redirect listener on TLS.HTTPAddr, until ctx ends.
func listenTLS(ctx context.Context, logger *slog.Logger, opts ListenOptions, handler http.Handler) error {
	t := opts.TLS
	var (
		cfg     *tls.Config
		manager *autocert.Manager
		hosts   []string
	)
	switch {
	case t.autocert():
		if t.Cache == nil {
			return errors.New("listen: autocert needs a certificate cache")
		}
		for _, h := range t.Hosts {
			hosts = append(hosts, strings.ToLower(h))
		}
		manager = &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(hosts...),
			Cache:      t.Cache,
			Email:      t.Email,
			Client:     &acme.Client{DirectoryURL: t.DirectoryURL, HTTPClient: t.ACMEClient},
		}
		if manager.Client.DirectoryURL == "" {
			manager.Client.DirectoryURL = autocert.DefaultACMEDirectory
		}
		cfg = manager.TLSConfig()
	case t.CertFile != "" && t.KeyFile != "":
		r := &certReloader{certFile: t.CertFile, keyFile: t.KeyFile, logger: logger, interval: t.ReloadInterval}
		if r.interval <= 0 {
			r.interval = defaultCertCheckInterval
		}
		if _, err := r.load(); err != nil {
			return err
		}
		cfg = &tls.Config{GetCertificate: r.getCertificate, NextProtos: []string{"h2", "http/1.1"}}
	default:
		return errors.New("listen: TLS needs certificate files or host names")
	}
	cfg.MinVersion = tls.VersionTLS12

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	srv := newHTTPServer(handler)
	srv.TLSConfig = cfg
	all := []serving{{srv, func() error { return srv.Serve(tls.NewListener(ln, cfg)) }}}
	logger.Info("listening with TLS", "addr", ln.Addr().String(), "autocert", manager != nil)

	if manager != nil {
		addr := t.HTTPAddr
		if addr == "" {
			addr = ":80"
		}
		httpLn, err := net.Listen("tcp", addr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
		httpsPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		redirect := newHTTPServer(withoutPort(manager.HTTPHandler(redirectToHTTPS(hosts, httpsPort))))
		all = append(all, serving{redirect, func() error { return redirect.Serve(jsonErrorListener{httpLn}) }})
		logger.Info("listening for ACME challenges and https redirects", "addr", httpLn.Addr().String())
		if t.HTTPListening != nil {
			t.HTTPListening(httpLn.Addr())
		}
	}
	if opts.Listening != nil {
		opts.Listening(ln.Addr())
	}
	return serveUntilDone(ctx, logger, opts.ShutdownTimeout, all...)
}

// withoutPort drops an explicit port from the Host header: autocert checks
// the host against its list, and "offen.example.org:80" is the same host.
func withoutPort(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			r.Host = h
		}
		next.ServeHTTP(w, r)
	})
}

// redirectToHTTPS sends requests for one of hosts to the same path over
// https (308, so that methods and bodies survive) and refuses other hosts.
// httpsPort is left out of the target when it is 443.
func redirectToHTTPS(hosts []string, httpsPort string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(strings.TrimSuffix(r.Host, "."))
		if !slices.Contains(hosts, host) {
			respondError(w, r, errUnknownHost)
			return
		}
		if httpsPort != "" && httpsPort != "443" {
			host = net.JoinHostPort(host, httpsPort)
		}
		w.Header().Set("Connection", "close")
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// certReloader serves a certificate from files and reloads it when a file
// changes, checking at most every few seconds.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	interval          time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

const defaultCertCheckInterval = 10 * time.Second

func (c *certReloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	c.cert, c.modTime, c.checked = &cert, c.latestModTime(), time.Now()
	return c.cert, nil
}

func (c *certReloader) latestModTime() time.Time {
	var latest time.Time
	for _, f := range []string{c.certFile, c.keyFile} {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(latest) {
			latest = fi.ModTime()
		}
	}
	return latest
}

func (c *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) < c.interval {
		return c.cert, nil
	}
	c.checked = time.Now()
	if !c.latestModTime().After(c.modTime) {
		return c.cert, nil
	}
	if _, err := c.load(); err != nil {
		// A half-written renewal: keep serving the old pair, try again later.
		c.logger.Error("reload TLS certificate; keeping the previous one", "error", err)
		return c.cert, nil
	}
	c.logger.Info("reloaded TLS certificate")
	return c.cert, nil
}

// NewCertificateCache returns an autocert cache kept in the database, so
// that every instance on it shares account, certificates and challenge
// tokens. Entries are encrypted as a1 under the first of keys (the
// certificates key derived from the instance secret, PROTOCOL.md §2.3); the
// others (from previous secrets) are tried when reading. An entry that no
// key opens is a cache miss, so autocert obtains it anew.
func NewCertificateCache(store persistence.Certificates, logger *slog.Logger, secretKeys ...[]byte) autocert.Cache {
	return &certificateCache{store: store, logger: logger, keys: secretKeys}
}

type certificateCache struct {
	store  persistence.Certificates
	logger *slog.Logger
	keys   [][]byte
}

func (c *certificateCache) Get(ctx context.Context, name string) ([]byte, error) {
	data, err := c.store.GetCertificate(ctx, name)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	} else if err != nil {
		return nil, fmt.Errorf("certificate cache: get: %w", err)
	}
	for _, k := range c.keys {
		if plain, err := keys.DecryptCertificate(k, name, string(data)); err == nil {
			return plain, nil
		}
	}
	c.logger.Warn("certificate cache entry opens with no configured secret; obtaining it anew", "name", name)
	return nil, autocert.ErrCacheMiss
}

func (c *certificateCache) Put(ctx context.Context, name string, data []byte) error {
	if len(c.keys) == 0 {
		return errors.New("certificate cache: put: no key")
	}
	sealed, err := keys.EncryptCertificate(c.keys[0], name, data)
	if err != nil {
		return fmt.Errorf("certificate cache: put: %w", err)
	}
	if err := c.store.PutCertificate(ctx, name, []byte(sealed)); err != nil {
		return fmt.Errorf("certificate cache: put: %w", err)
	}
	return nil
}

func (c *certificateCache) Delete(ctx context.Context, name string) error {
	if err := c.store.DeleteCertificate(ctx, name); err != nil {
		return fmt.Errorf("certificate cache: delete: %w", err)
	}
	return nil
}
