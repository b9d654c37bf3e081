// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"encoding"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of an offen process. Each field names
// its environment variable, default and description exactly once in its tags;
// the same metadata feeds --help, `offen config` and the README table.
//
// Tags: env (variable name), default (raw default value), help (one line),
// secret ("true": redacted when printed, and a NAME_FILE variant is read).
type Config struct {
	Server struct {
		Port             int      `env:"OFFEN_SERVER_PORT" default:"3000" help:"listen port (plain HTTP, or TLS with certificate files)"`
		PublicURL        string   `env:"OFFEN_SERVER_PUBLICURL" default:"" help:"the instance's own URL, used for every mailed link; derived from the first autotls host, else http://localhost:PORT"`
		ReverseProxy     bool     `env:"OFFEN_SERVER_REVERSEPROXY" default:"false" help:"set when running behind a reverse proxy"`
		TrustedProxies   []string `env:"OFFEN_SERVER_TRUSTEDPROXIES" default:"" help:"comma-separated CIDRs whose X-Forwarded-* headers are believed"`
		SSLCertificate   string   `env:"OFFEN_SERVER_SSLCERTIFICATE" default:"" help:"path to a TLS certificate file (with OFFEN_SERVER_SSLKEY)"`
		SSLKey           string   `env:"OFFEN_SERVER_SSLKEY" default:"" help:"path to the TLS private key file (with OFFEN_SERVER_SSLCERTIFICATE)"`
		AutoTLS          []string `env:"OFFEN_SERVER_AUTOTLS" default:"" help:"comma-separated host names to request certificates for (autocert)"`
		LetsEncryptEmail string   `env:"OFFEN_SERVER_LETSENCRYPTEMAIL" default:"" help:"contact address given to the ACME directory"`
		ACMEDirectory    string   `env:"OFFEN_SERVER_ACMEDIRECTORY" default:"https://acme-v02.api.letsencrypt.org/directory" help:"ACME directory URL (Let's Encrypt by default)"`
		Argon2Workers    int      `env:"OFFEN_SERVER_ARGON2WORKERS" default:"0" help:"password checks (argon2id, 19 MiB each) run at once for logins and new passwords; 0 means one per CPU core, at most 2"`
	}
	Database struct {
		Dialect           string `env:"OFFEN_DATABASE_DIALECT" default:"sqlite3" help:"sqlite3, mysql or postgres"`
		ConnectionString  string `env:"OFFEN_DATABASE_CONNECTIONSTRING" default:"/var/opt/offen/offen.db" secret:"true" help:"SQLite file path, or the DSN of the MySQL or PostgreSQL database"`
		ConnectionRetries int    `env:"OFFEN_DATABASE_CONNECTIONRETRIES" default:"0" help:"connection attempts to retry with backoff at start"`
	}
	Secrets struct {
		Secret         string `env:"OFFEN_SECRET" default:"" secret:"true" help:"instance secret, base64 of at least 32 bytes (required by serve; see offen secret)"`
		SecretPrevious string `env:"OFFEN_SECRET_PREVIOUS" default:"" secret:"true" help:"the secret in use before a rotation, still accepted"`
	}
	App struct {
		LogLevel    string    `env:"OFFEN_APP_LOGLEVEL" default:"info" help:"debug, info, warn or error"`
		LogFormat   string    `env:"OFFEN_APP_LOGFORMAT" default:"text" help:"text or json"`
		SingleNode  bool      `env:"OFFEN_APP_SINGLENODE" default:"true" help:"migrate and expire inside serve; set false when several instances share a database"`
		Locale      string    `env:"OFFEN_APP_LOCALE" default:"en" help:"default language (en, de, fr, es, pt or vi), also of mails when the requesting page names none of these"`
		RootAccount string    `env:"OFFEN_APP_ROOTACCOUNT" default:"" help:"id of the account that tracks Offen's own pages"`
		Retention   Retention `env:"OFFEN_APP_RETENTION" default:"6months" help:"how long events are kept: 7days, 30days, 6weeks, 12weeks or 6months"`
	}
	SMTP struct {
		Host     string `env:"OFFEN_SMTP_HOST" default:"" help:"SMTP server; when empty, sendmail or the log is used"`
		Port     int    `env:"OFFEN_SMTP_PORT" default:"587" help:"SMTP port"`
		User     string `env:"OFFEN_SMTP_USER" default:"" help:"SMTP user name"`
		Password string `env:"OFFEN_SMTP_PASSWORD" default:"" secret:"true" help:"SMTP password"`
		Sender   string `env:"OFFEN_SMTP_SENDER" default:"no-reply@localhost" help:"From address of outgoing mail"`
		AuthType string `env:"OFFEN_SMTP_AUTHTYPE" default:"PLAIN" help:"PLAIN, LOGIN, CRAM-MD5 or NONE"`
	}
}

// Retention is how long events are kept. Its text form is one of the names
// of retentions.
type Retention time.Duration

var retentions = []struct {
	name string
	days int
}{
	{"7days", 7}, {"30days", 30}, {"6weeks", 42}, {"12weeks", 84}, {"6months", 186},
}

// Duration returns the retention period.
func (r Retention) Duration() time.Duration { return time.Duration(r) }

// String returns the configuration name of r.
func (r Retention) String() string {
	for _, c := range retentions {
		if time.Duration(r) == time.Duration(c.days)*24*time.Hour {
			return c.name
		}
	}
	return time.Duration(r).String()
}

// MarshalText implements encoding.TextMarshaler.
func (r Retention) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Retention) UnmarshalText(b []byte) error {
	names := make([]string, len(retentions))
	for i, c := range retentions {
		if string(b) == c.name {
			*r = Retention(time.Duration(c.days) * 24 * time.Hour)
			return nil
		}
		names[i] = c.name
	}
	return fmt.Errorf("must be one of %s", strings.Join(names, ", "))
}

// setting is one configurable value of Config, read from its tags.
type setting struct {
	section string
	env     string
	def     string
	help    string
	secret  bool
	index   []int
}

// settings lists Config's fields in declaration order.
var settings = func() []setting {
	var list []setting
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		sec := ct.Field(i)
		for j := range sec.Type.NumField() {
			f := sec.Type.Field(j)
			list = append(list, setting{
				section: sec.Name,
				env:     f.Tag.Get("env"),
				def:     f.Tag.Get("default"),
				help:    f.Tag.Get("help"),
				secret:  f.Tag.Get("secret") == "true",
				index:   []int{i, j},
			})
		}
	}
	return list
}()

// source is one layer of configuration values: flags, the environment or
// the env file.
type source struct {
	name   string
	lookup func(key string) (string, bool)
}

// loadOptions say where loadConfig finds values besides the defaults.
type loadOptions struct {
	// Getenv reads the process environment.
	Getenv func(string) string
	// EnvFile is the --envfile flag; empty means the search order of
	// envFileCandidates.
	EnvFile string
	// Flags hold values set by command line flags, keyed by variable name.
	Flags map[string]string
	// ReadFile reads env and *_FILE files; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

// envFileCandidates returns the env-file search order.
func envFileCandidates(getenv func(string) string) []string {
	list := []string{"offen.env"}
	if xdg := getenv("XDG_CONFIG_HOME"); xdg != "" {
		list = append(list, filepath.Join(xdg, "offen", "offen.env"))
	}
	if home := getenv("HOME"); home != "" {
		list = append(list, filepath.Join(home, ".config", "offen", "offen.env"))
	}
	return append(list, "/etc/offen/offen.env")
}

// loadConfig builds the effective configuration from flags, environment,
// env file and defaults, in that order of precedence. The returned error
// joins every problem found, each naming its variable; the Config is
// returned alongside so that callers can still print it.
func loadConfig(opts loadOptions) (Config, string, error) {
	readFile := opts.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	var cfg Config
	var problems []error

	envFile, fileValues, err := readEnvFile(opts, readFile)
	if err != nil {
		return cfg, envFile, err
	}
	sources := []source{
		{"flag", func(k string) (string, bool) { v, ok := opts.Flags[k]; return v, ok }},
		{"environment", func(k string) (string, bool) { v := opts.Getenv(k); return v, v != "" }},
		{"env file", func(k string) (string, bool) { v, ok := fileValues[k]; return v, ok }},
	}

	cv := reflect.ValueOf(&cfg).Elem()
	for _, s := range settings {
		raw, err := resolve(s, sources, readFile)
		if err != nil {
			problems = append(problems, err)
			raw = s.def
		}
		if err := setField(cv.FieldByIndex(s.index), raw); err != nil {
			problems = append(problems, describe(s, raw, err))
			_ = setField(cv.FieldByIndex(s.index), s.def)
		}
	}
	if cfg.Server.PublicURL == "" {
		cfg.Server.PublicURL = derivePublicURL(cfg.Server.AutoTLS, cfg.Server.Port)
	}
	cfg.Server.PublicURL = strings.TrimSuffix(cfg.Server.PublicURL, "/")
	cfg.SMTP.AuthType = strings.ToUpper(cfg.SMTP.AuthType)
	problems = append(problems, cfg.Validate())
	return cfg, envFile, errors.Join(problems...)
}

// readEnvFile finds and parses the env file. A file named by --envfile must
// exist; otherwise the first candidate that exists is used, if any.
func readEnvFile(opts loadOptions, readFile func(string) ([]byte, error)) (string, map[string]string, error) {
	if opts.EnvFile != "" {
		b, err := readFile(opts.EnvFile)
		if err != nil {
			return opts.EnvFile, nil, fmt.Errorf("read env file: %w", err)
		}
		values, err := parseEnvFile(b)
		if err != nil {
			return opts.EnvFile, nil, fmt.Errorf("read env file %s: %w", opts.EnvFile, err)
		}
		return opts.EnvFile, values, nil
	}
	for _, name := range envFileCandidates(opts.Getenv) {
		b, err := readFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return name, nil, fmt.Errorf("read env file: %w", err)
		}
		values, err := parseEnvFile(b)
		if err != nil {
			return name, nil, fmt.Errorf("read env file %s: %w", name, err)
		}
		return name, values, nil
	}
	return "", map[string]string{}, nil
}

var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseEnvFile reads KEY=VALUE lines. Blank lines and lines starting with #
// are skipped, an `export ` prefix is allowed, and a value may be wrapped in
// single or double quotes.
func parseEnvFile(b []byte) (map[string]string, error) {
	values := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !envKey.MatchString(key) {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		values[key] = value
	}
	return values, sc.Err()
}

// resolve returns the raw value of s from the first source that sets it
// (directly or, for secrets, through NAME_FILE), or its default.
func resolve(s setting, sources []source, readFile func(string) ([]byte, error)) (string, error) {
	for _, src := range sources {
		v, ok := src.lookup(s.env)
		if !s.secret {
			if ok {
				return v, nil
			}
			continue
		}
		path, fileOK := src.lookup(s.env + "_FILE")
		switch {
		case ok && fileOK:
			return "", fmt.Errorf("%s and %s_FILE are both set in the %s; set only one", s.env, s.env, src.name)
		case ok:
			return v, nil
		case fileOK:
			b, err := readFile(path)
			if err != nil {
				return "", fmt.Errorf("%s_FILE: cannot read %s: %v", s.env, path, errors.Unwrap(err))
			}
			return strings.TrimRight(string(b), "\r\n"), nil
		}
	}
	return s.def, nil
}

// setField parses raw into the field v.
func setField(v reflect.Value, raw string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(raw))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return errors.New("must be a whole number")
		}
		v.SetInt(int64(n))
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return errors.New("must be true or false")
		}
		v.SetBool(b)
	case reflect.Slice:
		var list []string
		for part := range strings.SplitSeq(raw, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, part)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		panic("config: unsupported field type " + v.Type().String())
	}
	return nil
}

// describe names the variable and, unless it is a secret, the bad value.
func describe(s setting, raw string, err error) error {
	if s.secret {
		return fmt.Errorf("%s: %v", s.env, err)
	}
	return fmt.Errorf("%s=%q: %v", s.env, raw, err)
}

func derivePublicURL(autoTLS []string, port int) string {
	if len(autoTLS) > 0 {
		return "https://" + autoTLS[0]
	}
	return "http://localhost:" + strconv.Itoa(port)
}

var (
	hostName = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	uuidV4   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	locales  = []string{"en", "de", "fr", "es", "pt", "vi"}
)

// Validate reports every semantic problem of c in one joined error, each
// naming its variable. Secret presence is checked by RequireSecret, as only
// serve needs it.
func (c *Config) Validate() error {
	var p []error
	bad := func(env, format string, args ...any) {
		p = append(p, fmt.Errorf(env+": "+format, args...))
	}
	s := &c.Server
	if s.Port < 1 || s.Port > 65535 {
		bad("OFFEN_SERVER_PORT", "%d is not a port between 1 and 65535", s.Port)
	}
	if u, err := url.Parse(s.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("OFFEN_SERVER_PUBLICURL", "%q is not an http or https URL", s.PublicURL)
	}
	for _, cidr := range s.TrustedProxies {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			if _, err := netip.ParseAddr(cidr); err != nil {
				bad("OFFEN_SERVER_TRUSTEDPROXIES", "%q is not a CIDR or IP address", cidr)
			}
		}
	}
	if (s.SSLCertificate == "") != (s.SSLKey == "") {
		bad("OFFEN_SERVER_SSLCERTIFICATE", "must be set together with OFFEN_SERVER_SSLKEY")
	}
	if s.SSLCertificate != "" && len(s.AutoTLS) > 0 {
		bad("OFFEN_SERVER_AUTOTLS", "cannot be combined with OFFEN_SERVER_SSLCERTIFICATE")
	}
	for _, h := range s.AutoTLS {
		if !hostName.MatchString(h) || len(h) > 253 {
			bad("OFFEN_SERVER_AUTOTLS", "%q is not a host name", h)
		}
	}
	if s.LetsEncryptEmail != "" {
		if _, err := mail.ParseAddress(s.LetsEncryptEmail); err != nil {
			bad("OFFEN_SERVER_LETSENCRYPTEMAIL", "%q is not an e-mail address", s.LetsEncryptEmail)
		}
	}
	if u, err := url.Parse(s.ACMEDirectory); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("OFFEN_SERVER_ACMEDIRECTORY", "%q is not an http or https URL", s.ACMEDirectory)
	}
	if s.Argon2Workers < 0 || s.Argon2Workers > 256 {
		bad("OFFEN_SERVER_ARGON2WORKERS", "%d must be between 0 and 256", s.Argon2Workers)
	}

	d := &c.Database
	switch d.Dialect {
	case "sqlite3", "mysql", "postgres":
	default:
		bad("OFFEN_DATABASE_DIALECT", "%q must be sqlite3, mysql or postgres", d.Dialect)
	}
	if strings.TrimSpace(d.ConnectionString) == "" {
		bad("OFFEN_DATABASE_CONNECTIONSTRING", "must not be empty")
	}
	if d.ConnectionRetries < 0 {
		bad("OFFEN_DATABASE_CONNECTIONRETRIES", "%d must not be negative", d.ConnectionRetries)
	}

	if c.Secrets.Secret != "" {
		if _, err := decodeSecret(c.Secrets.Secret); err != nil {
			bad("OFFEN_SECRET", "%v", err)
		}
	}
	if c.Secrets.SecretPrevious != "" {
		if _, err := decodeSecret(c.Secrets.SecretPrevious); err != nil {
			bad("OFFEN_SECRET_PREVIOUS", "%v", err)
		}
	}

	a := &c.App
	if _, err := parseLevel(a.LogLevel); err != nil {
		bad("OFFEN_APP_LOGLEVEL", "%q must be debug, info, warn or error", a.LogLevel)
	}
	if a.LogFormat != "text" && a.LogFormat != "json" {
		bad("OFFEN_APP_LOGFORMAT", "%q must be text or json", a.LogFormat)
	}
	if !slices.Contains(locales, a.Locale) {
		bad("OFFEN_APP_LOCALE", "%q must be one of %s", a.Locale, strings.Join(locales, ", "))
	}
	if a.RootAccount != "" && !uuidV4.MatchString(a.RootAccount) {
		bad("OFFEN_APP_ROOTACCOUNT", "%q is not an account id (lowercase UUIDv4)", a.RootAccount)
	}

	m := &c.SMTP
	if m.Port < 1 || m.Port > 65535 {
		bad("OFFEN_SMTP_PORT", "%d is not a port between 1 and 65535", m.Port)
	}
	if _, err := mail.ParseAddress(m.Sender); err != nil {
		bad("OFFEN_SMTP_SENDER", "%q is not an e-mail address", m.Sender)
	}
	switch m.AuthType {
	case "PLAIN", "LOGIN", "CRAM-MD5", "NONE":
	default:
		bad("OFFEN_SMTP_AUTHTYPE", "%q must be PLAIN, LOGIN, CRAM-MD5 or NONE", m.AuthType)
	}
	return errors.Join(p...)
}

// RequireSecret reports a missing OFFEN_SECRET.
func (c *Config) RequireSecret() error {
	if c.Secrets.Secret == "" {
		return errors.New("OFFEN_SECRET: required; create one with `offen secret` and put it in the env file")
	}
	return nil
}

// minSecretBytes is the least length of a decoded secret.
const minSecretBytes = 32

// decodeSecret decodes a secret written in standard or URL-safe base64,
// with or without padding, and checks its length.
func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) < minSecretBytes {
			return nil, fmt.Errorf("decodes to %d bytes, want at least %d", len(b), minSecretBytes)
		}
		return b, nil
	}
	return nil, errors.New("is not base64")
}

// value returns the text form of s's field in c, redacting secrets unless
// reveal is set.
func (c *Config) value(s setting, reveal bool) string {
	v := reflect.ValueOf(c).Elem().FieldByIndex(s.index)
	var text string
	switch x := v.Interface().(type) {
	case encoding.TextMarshaler:
		b, _ := x.MarshalText()
		text = string(b)
	case []string:
		text = strings.Join(x, ",")
	default:
		text = fmt.Sprint(x)
	}
	if s.secret && !reveal && text != "" {
		if s.env == "OFFEN_DATABASE_CONNECTIONSTRING" && c.Database.Dialect == "sqlite3" {
			return text
		}
		return "(redacted)"
	}
	return text
}

// parseLevel reads a log level name such as info or DEBUG.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}
