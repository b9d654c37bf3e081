// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/persistence/persistencetest"
	"github.com/offen/offen/server"
)

const tlsTestHost = "offen.test"

// TestAutocertWithPebble runs Pebble, a real ACME server, in-process on
// loopback. Its validation authority resolves offen.test through a DNS server
// of the test to 127.0.0.1 and fetches the HTTP-01 token from Offen's
// challenge listener, as Let's Encrypt would on port 80. Offen obtains a
// certificate, serves /healthz over HTTPS with it, redirects plain HTTP, and
// keeps the certificate encrypted in the database, where a second instance
// finds it without asking the CA again.
func TestAutocertWithPebble(t *testing.T) {
	// Pebble reads these when it is built: no random validation delays and no
	// deliberately rejected nonces, so the test takes a second, not a minute.
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")

	store := newTLSTestStore(t)
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	dnsAddr := startTestDNS(t, tlsTestHost, "127.0.0.1")
	certKey := randomCertKey(t)

	// The directory listens first; Pebble itself is built once Offen's
	// challenge port is known, as its validation authority needs that port.
	var pebbleHandler atomic.Pointer[http.Handler]
	acmeServer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := pebbleHandler.Load()
		if h == nil {
			http.Error(w, "pebble is starting", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	t.Cleanup(acmeServer.Close)

	var pebbleLog tlsLogBuffer
	httpsAddr, httpAddr := startTLSInstance(t, logger, store, server.TLSOptions{
		Hosts:        []string{tlsTestHost},
		Email:        "admin@offen.test",
		DirectoryURL: acmeServer.URL + wfe.DirectoryPath,
		Cache:        server.NewCertificateCache(store, logger, certKey),
		HTTPAddr:     "127.0.0.1:0",
		ACMEClient:   acmeServer.Client(),
	})

	pebbleLogger := log.New(io.MultiWriter(&pebbleLog, t.Output()), "pebble ", 0)
	pdb := db.NewMemoryStore()
	pca := ca.New(pebbleLogger, pdb, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "test"}})
	pva := va.New(pebbleLogger, httpAddr.(*net.TCPAddr).Port, 0, false, dnsAddr, pdb)
	pwfe := wfe.New(pebbleLogger, pdb, pva, pca, []string{"pebble.letsencrypt.org"}, false, false, 1, 1)
	h := pwfe.Handler()
	pebbleHandler.Store(&h)

	roots := x509.NewCertPool()
	roots.AddCert(pca.GetRootCert(0).Cert)
	client := tlsClientFor(roots, httpsAddr, httpAddr)

	resp, err := client.Get(fmt.Sprintf("https://%s:%d/healthz", tlsTestHost, httpsAddr.(*net.TCPAddr).Port))
	if err != nil {
		t.Fatalf("GET /healthz over https: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok":true`) {
		t.Fatalf("got %d %s, want 200 with ok", resp.StatusCode, body)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if err := leaf.VerifyHostname(tlsTestHost); err != nil {
		t.Errorf("served certificate: %v", err)
	}
	if !strings.Contains(leaf.Issuer.CommonName, "Pebble") {
		t.Errorf("got issuer %q, want Pebble's", leaf.Issuer.CommonName)
	}
	wantFetch := fmt.Sprintf("http://%s:%d/.well-known/acme-challenge/", tlsTestHost, httpAddr.(*net.TCPAddr).Port)
	if !strings.Contains(pebbleLog.String(), wantFetch) {
		t.Errorf("pebble never fetched %s…; its log:\n%s", wantFetch, pebbleLog.String())
	}

	t.Run("certificate is encrypted in the database", func(t *testing.T) {
		raw, err := store.GetCertificate(context.Background(), tlsTestHost)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(raw, []byte("a1.")) || bytes.Contains(raw, []byte("PRIVATE KEY")) || bytes.Contains(raw, []byte("CERTIFICATE")) {
			t.Fatalf("stored entry is not an a1 ciphertext: %.60q", raw)
		}
		plain, err := keys.DecryptCertificate(certKey, tlsTestHost, string(raw))
		if err != nil {
			t.Fatalf("decrypt with the certificates key: %v", err)
		}
		if !bytes.Contains(plain, []byte("PRIVATE KEY")) || !bytes.Contains(plain, []byte("BEGIN CERTIFICATE")) {
			t.Errorf("decrypted entry holds no key and certificate")
		}
		if _, err := keys.DecryptCertificate(certKey, "other.test", string(raw)); err == nil {
			t.Errorf("entry opens under another name: the AAD does not bind the name")
		}
		account, err := store.GetCertificate(context.Background(), "acme_account+key")
		if err != nil {
			t.Fatalf("ACME account key: %v", err)
		}
		if !bytes.HasPrefix(account, []byte("a1.")) || bytes.Contains(account, []byte("PRIVATE KEY")) {
			t.Errorf("ACME account key is not an a1 ciphertext: %.60q", account)
		}
	})

	t.Run("plain http redirects to https", func(t *testing.T) {
		resp, err := client.Get(fmt.Sprintf("http://%s:%d/login/?next=%%2F", tlsTestHost, httpAddr.(*net.TCPAddr).Port))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := fmt.Sprintf("https://%s:%d/login/?next=%%2F", tlsTestHost, httpsAddr.(*net.TCPAddr).Port)
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
			t.Errorf("got %d to %q, want 308 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	})

	t.Run("a second instance uses the shared certificate", func(t *testing.T) {
		// Its directory is gone: it can only serve what the database holds.
		gone := httptest.NewTLSServer(http.NotFoundHandler())
		gone.Close()
		httpsAddr2, httpAddr2 := startTLSInstance(t, logger, store, server.TLSOptions{
			Hosts:        []string{tlsTestHost},
			DirectoryURL: gone.URL + wfe.DirectoryPath,
			Cache:        server.NewCertificateCache(store, logger, certKey),
			HTTPAddr:     "127.0.0.1:0",
			ACMEClient:   gone.Client(),
		})
		resp, err := tlsClientFor(roots, httpsAddr2, httpAddr2).Get(fmt.Sprintf("https://%s:%d/healthz", tlsTestHost, httpsAddr2.(*net.TCPAddr).Port))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.TLS.PeerCertificates[0].SerialNumber; got.Cmp(leaf.SerialNumber) != 0 {
			t.Errorf("got serial %s, want the first instance's %s", got, leaf.SerialNumber)
		}
	})

	t.Run("a rotated secret still opens the cache", func(t *testing.T) {
		cache := server.NewCertificateCache(store, logger, randomCertKey(t), certKey)
		if _, err := cache.Get(context.Background(), tlsTestHost); err != nil {
			t.Errorf("with the previous key second: %v", err)
		}
		if _, err := server.NewCertificateCache(store, logger, randomCertKey(t)).Get(context.Background(), tlsTestHost); err == nil {
			t.Errorf("a foreign key opened the entry")
		}
	})
}

// TestAutocertChallengeAnsweredByAnotherInstance: behind a load balancer the
// CA's validation request may reach another instance than the one that asked
// for the certificate. Instance A orders; the CA asks instance B's port 80;
// B finds the token in the shared database cache.
func TestAutocertChallengeAnsweredByAnotherInstance(t *testing.T) {
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	store := newTLSTestStore(t)
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	dnsAddr := startTestDNS(t, tlsTestHost, "127.0.0.1")
	certKey := randomCertKey(t)

	// B never orders anything itself: its directory does not exist.
	_, httpB := startTLSInstance(t, logger, store, server.TLSOptions{
		Hosts:        []string{tlsTestHost},
		DirectoryURL: "https://127.0.0.1:1/dir",
		Cache:        server.NewCertificateCache(store, logger, certKey),
		HTTPAddr:     "127.0.0.1:0",
	})
	var pebbleLog tlsLogBuffer
	pebbleLogger := log.New(io.MultiWriter(&pebbleLog, t.Output()), "pebble ", 0)
	pdb := db.NewMemoryStore()
	pca := ca.New(pebbleLogger, pdb, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "test"}})
	pva := va.New(pebbleLogger, httpB.(*net.TCPAddr).Port, 0, false, dnsAddr, pdb)
	pwfe := wfe.New(pebbleLogger, pdb, pva, pca, []string{"pebble.letsencrypt.org"}, false, false, 1, 1)
	acmeServer := httptest.NewTLSServer(pwfe.Handler())
	t.Cleanup(acmeServer.Close)

	httpsA, _ := startTLSInstance(t, logger, store, server.TLSOptions{
		Hosts:        []string{tlsTestHost},
		DirectoryURL: acmeServer.URL + wfe.DirectoryPath,
		Cache:        server.NewCertificateCache(store, logger, certKey),
		HTTPAddr:     "127.0.0.1:0",
		ACMEClient:   acmeServer.Client(),
	})
	roots := x509.NewCertPool()
	roots.AddCert(pca.GetRootCert(0).Cert)
	resp, err := tlsClientFor(roots, httpsA, nil).Get(fmt.Sprintf("https://%s:%d/healthz", tlsTestHost, httpsA.(*net.TCPAddr).Port))
	if err != nil {
		t.Fatalf("GET /healthz over https on A: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	wantFetch := fmt.Sprintf("http://%s:%d/.well-known/acme-challenge/", tlsTestHost, httpB.(*net.TCPAddr).Port)
	if !strings.Contains(pebbleLog.String(), wantFetch) {
		t.Errorf("pebble never asked instance B (%s…)", wantFetch)
	}
}

// TestTLSFromFiles serves with a certificate and key from files.
func TestTLSFromFiles(t *testing.T) {
	t.Parallel()
	store := newTLSTestStore(t)
	var logs tlsLogBuffer
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), nil))
	dir := t.TempDir()
	certPEM, keyPEM, leaf := selfSignedCert(t, tlsTestHost)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	httpsAddr, _ := startTLSInstance(t, logger, store, server.TLSOptions{CertFile: certFile, KeyFile: keyFile, ReloadInterval: 10 * time.Millisecond})
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	resp, err := tlsClientFor(roots, httpsAddr, nil).Get(fmt.Sprintf("https://%s:%d/healthz", tlsTestHost, httpsAddr.(*net.TCPAddr).Port))
	if err != nil {
		t.Fatalf("GET /healthz over https: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Errorf("got %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("got Strict-Transport-Security %q over TLS, want max-age=31536000", got)
	}

	t.Run("a renewed certificate is served without a restart", func(t *testing.T) {
		certPEM2, keyPEM2, leaf2 := selfSignedCert(t, tlsTestHost)
		// A half-written renewal (new certificate, old key) keeps the old pair.
		if err := os.WriteFile(certFile, certPEM2, 0o600); err != nil {
			t.Fatal(err)
		}
		roots.AddCert(leaf2)
		client := tlsClientFor(roots, httpsAddr, nil)
		client.Transport.(*http.Transport).DisableKeepAlives = true
		serial := func() *big.Int {
			t.Helper()
			resp, err := client.Get(fmt.Sprintf("https://%s:%d/healthz", tlsTestHost, httpsAddr.(*net.TCPAddr).Port))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.TLS.PeerCertificates[0].SerialNumber
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(logs.String(), "keeping the previous one") {
			if got := serial(); got.Cmp(leaf.SerialNumber) != 0 {
				t.Fatalf("with a mismatched pair: got serial %s, want the old %s", got, leaf.SerialNumber)
			}
			if time.Now().After(deadline) {
				t.Fatal("the mismatched pair was never tried")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := serial(); got.Cmp(leaf.SerialNumber) != 0 {
			t.Fatalf("with a mismatched pair: got serial %s, want the old %s", got, leaf.SerialNumber)
		}
		future := time.Now().Add(time.Minute)
		if err := os.WriteFile(keyFile, keyPEM2, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(keyFile, future, future); err != nil {
			t.Fatal(err)
		}
		deadline = time.Now().Add(5 * time.Second)
		for serial().Cmp(leaf2.SerialNumber) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the renewed certificate was never served")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("a broken key file stops start-up", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.pem")
		if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := server.Listen(context.Background(), logger, server.ListenOptions{
			Addr: "127.0.0.1:0",
			TLS:  &server.TLSOptions{CertFile: certFile, KeyFile: bad},
		}, http.NotFoundHandler())
		if err == nil {
			t.Fatal("got no error")
		}
	})
}

// startTLSInstance serves a fresh handler on store with opts until the test
// ends and returns the HTTPS address and, with autocert, the challenge
// listener's address.
func startTLSInstance(t *testing.T, logger *slog.Logger, store persistence.Store, opts server.TLSOptions) (httpsAddr, httpAddr net.Addr) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	httpsCh, httpCh := make(chan net.Addr, 1), make(chan net.Addr, 1)
	opts.HTTPListening = func(a net.Addr) { httpCh <- a }
	handler := server.New(logger, server.Options{Version: "test", PublicURL: "https://" + tlsTestHost}, store, nil, nil, nil, nil)
	done := make(chan error, 1)
	go func() {
		done <- server.Listen(ctx, logger, server.ListenOptions{
			Addr:            "127.0.0.1:0",
			ShutdownTimeout: 5 * time.Second,
			Listening:       func(a net.Addr) { httpsCh <- a },
			TLS:             &opts,
		}, handler)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("listen: %v", err)
		}
	})
	select {
	case httpsAddr = <-httpsCh:
	case err := <-done:
		t.Fatalf("listen: %v", err)
	}
	if len(opts.Hosts) > 0 {
		httpAddr = <-httpCh
	}
	return httpsAddr, httpAddr
}

// tlsClientFor returns a client that trusts roots, reaches tlsTestHost's https
// port at httpsAddr and its port 80 at httpAddr, and never follows redirects.
func tlsClientFor(roots *x509.CertPool, httpsAddr, httpAddr net.Addr) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: 60 * time.Second, // includes obtaining the certificate
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				for _, a := range []net.Addr{httpsAddr, httpAddr} {
					if a != nil && port == fmt.Sprint(a.(*net.TCPAddr).Port) {
						return dialer.DialContext(ctx, network, a.String())
					}
				}
				return nil, fmt.Errorf("test client: no route to %s", addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// startTestDNS answers A queries for host with ip over TCP, as Pebble asks, and
// an empty answer for anything else.
func startTestDNS(t *testing.T, host, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		for _, q := range req.Question {
			if q.Qtype == dns.TypeA && strings.EqualFold(q.Name, dns.Fqdn(host)) {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET},
					A:   net.ParseIP(ip),
				})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

func randomCertKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func selfSignedCert(t *testing.T, host string) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), cert
}

// tlsLogBuffer is a bytes.Buffer safe for Pebble's goroutines.
type tlsLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *tlsLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *tlsLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTLSTestStore(t *testing.T) persistence.Store {
	t.Helper()
	return persistencetest.NewSQLiteStore(t)
}
