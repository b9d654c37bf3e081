// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence/persistencetest"
	"golang.org/x/crypto/acme/autocert"
)

// TestServeTLSFromFilesAndHealthcheck runs the binary with a certificate
// file and checks it with `offen healthcheck`, as the Docker HEALTHCHECK does.
func TestServeTLSFromFilesAndHealthcheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, certFile, keyFile, "offen.test")
	vars := map[string]string{
		"OFFEN_DATABASE_CONNECTIONSTRING": filepath.Join(dir, "offen.db"),
		"OFFEN_SECRET":                    validSecret,
		"OFFEN_SERVER_SSLCERTIFICATE":     certFile,
		"OFFEN_SERVER_SSLKEY":             keyFile,
		"OFFEN_APP_LOGLEVEL":              "warn",
	}
	p := startOffen(t, vars)
	u, err := url.Parse(p.url)
	if err != nil {
		t.Fatal(err)
	}
	vars["OFFEN_SERVER_PORT"] = u.Port()

	var out string
	deadline := time.Now().Add(time.Minute)
	for {
		if out, err = runOffen(t, vars, "healthcheck", "--timeout", "2s"); err == nil {
			break
		}
		select {
		case <-p.exited:
			t.Fatalf("offen exited: %v\n%s", p.err, p.output)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck never passed: %v\n%s", err, p.output)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if want := "https://127.0.0.1:" + u.Port() + "/healthz"; !strings.Contains(out, want) {
		t.Errorf("got %q, want a check of %s", out, want)
	}
	p.stop(t)
	if _, err := runOffen(t, vars, "healthcheck", "--timeout", "2s"); err == nil {
		t.Error("healthcheck passed with the server stopped")
	}
}

func TestListenOptions(t *testing.T) {
	t.Parallel()
	var cfg Config
	cfg.Server.Port = 3000
	cfg.Secrets.Secret = validSecret
	if o, err := listenOptions(cfg, "127.0.0.1", nil, nil); err != nil || o.Addr != "127.0.0.1:3000" || o.TLS != nil {
		t.Errorf("plain: got %+v, %v", o, err)
	}
	files := cfg
	files.Server.SSLCertificate, files.Server.SSLKey = "c.pem", "k.pem"
	if o, err := listenOptions(files, "", nil, nil); err != nil || o.Addr != ":3000" || o.TLS == nil || o.TLS.CertFile != "c.pem" {
		t.Errorf("files: got %+v, %v", o, err)
	}
	auto := cfg
	auto.Server.AutoTLS = []string{"offen.example.org"}
	o, err := listenOptions(auto, "", nil, nil)
	if err != nil || o.Addr != ":443" || o.TLS == nil || o.TLS.HTTPAddr != ":80" || o.TLS.Cache == nil {
		t.Errorf("autocert: got %+v, %v", o, err)
	}
	auto.Secrets.Secret = ""
	if _, err := listenOptions(auto, "", nil, nil); err == nil {
		t.Error("autocert without a secret: got no error")
	}
}

// TestCertificateCacheKeys checks the autocert cache that serve builds: its
// entries are a1 under the "certificates" key that HKDF derives from
// OFFEN_SECRET (PROTOCOL.md §2.2, §2.3), and after a rotation entries written
// under the previous secret still open.
func TestCertificateCacheKeys(t *testing.T) {
	t.Parallel()
	store := persistencetest.NewSQLiteStore(t)
	old := base64.StdEncoding.EncodeToString(keys.NewKey())
	cacheFor := func(secret, previous string) autocert.Cache {
		t.Helper()
		var cfg Config
		cfg.Server.AutoTLS = []string{"offen.example.org"}
		cfg.Secrets.Secret, cfg.Secrets.SecretPrevious = secret, previous
		o, err := listenOptions(cfg, "", store, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return o.TLS.Cache
	}
	ctx := t.Context()
	if err := cacheFor(old, "").Put(ctx, "offen.example.org", []byte("certificate and key")); err != nil {
		t.Fatal(err)
	}
	raw, err := store.GetCertificate(ctx, "offen.example.org")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := base64.StdEncoding.DecodeString(old)
	ik, err := keys.DeriveInstanceKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := keys.DecryptCertificate(ik.Certificates, "offen.example.org", string(raw)); err != nil || string(plain) != "certificate and key" {
		t.Fatalf("stored entry under the derived key: got %q, %v", plain, err)
	}
	if got, err := cacheFor(validSecret, old).Get(ctx, "offen.example.org"); err != nil || string(got) != "certificate and key" {
		t.Errorf("after a rotation with OFFEN_SECRET_PREVIOUS: got %q, %v", got, err)
	}
	if _, err := cacheFor(validSecret, "").Get(ctx, "offen.example.org"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Errorf("with another secret only: got %v, want a cache miss", err)
	}
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	var cfg Config
	if got, err := trustedProxies(cfg); err != nil || len(got) != 0 {
		t.Errorf("default: got %v, %v; want none", got, err)
	}
	cfg.Server.ReverseProxy = true
	if got, err := trustedProxies(cfg); err != nil || len(got) != 2 || got[0].String() != "127.0.0.0/8" {
		t.Errorf("reverse proxy without list: got %v, %v; want loopback", got, err)
	}
	cfg.Server.TrustedProxies = []string{"10.0.0.0/8"}
	if got, err := trustedProxies(cfg); err != nil || len(got) != 1 || got[0].String() != "10.0.0.0/8" {
		t.Errorf("list: got %v, %v", got, err)
	}
}

// TestREADMEShowsSystemdUnit keeps the unit shown in the README identical to
// init/offen.service (without its header comment).
func TestREADMEShowsSystemdUnit(t *testing.T) {
	t.Parallel()
	unit := readRepoFile(t, "init/offen.service")
	body := strings.TrimRight(unit[strings.Index(unit, "[Unit]"):], "\n")
	readme := readRepoFile(t, "README.md")
	m := regexp.MustCompile("(?s)<!-- systemd-unit:start[^>]*-->\n```ini\n(.*?)\n```\n<!-- systemd-unit:end -->").FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no systemd-unit block")
	}
	if m[1] != body {
		t.Errorf("README.md shows another unit than init/offen.service; copy the file from [Unit] on")
	}
}

// TestDockerfileMatchesBinary checks what the Dockerfile assumes of the
// binary: its health check command and the variables set by -ldflags.
func TestDockerfileMatchesBinary(t *testing.T) {
	t.Parallel()
	df := readRepoFile(t, "Dockerfile")
	m := regexp.MustCompile(`CMD \["/usr/local/bin/offen", "([a-z]+)"\]`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal("Dockerfile has no HEALTHCHECK CMD running offen")
	}
	if c, _, err := newRootCmd(env{}).Find([]string{m[1]}); err != nil || c.Name() != m[1] {
		t.Errorf("HEALTHCHECK runs `offen %s`, which does not exist", m[1])
	}
	for _, x := range regexp.MustCompile(`-X main\.([a-zA-Z]+)=`).FindAllStringSubmatch(df, -1) {
		if x[1] != "version" && x[1] != "commit" && x[1] != "date" {
			t.Errorf("Dockerfile sets main.%s, which version.go does not have", x[1])
		}
	}
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeSelfSigned(t *testing.T, certFile, keyFile, host string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
}
