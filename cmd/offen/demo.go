// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// The demo login. Its password is shorter than the policy's minimum on
// purpose: the policy is enforced by clients, and the demo is throwaway.
const (
	demoEmail    = "demo@offen.dev"
	demoPassword = "demo"
	demoAccount  = "Demo"
)

func newDemoCmd(a *app) *cobra.Command {
	var (
		port, users int
		open        bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try Offen: a temporary instance with generated, encrypted data",
		Long: "Run a throwaway instance on 127.0.0.1: a temporary SQLite database, a random\n" +
			"secret, the login " + demoEmail + " (password \"" + demoPassword + "\") with the account \"" + demoAccount + "\" and an\n" +
			"encrypted history of --users visitors over the retention period, plus an\n" +
			"intro page on the next port that embeds the script, so the visitor side can\n" +
			"be tried too. Mails go to the log. Everything is deleted on exit (Ctrl+C).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if port < 1 || port > 65534 {
				return errors.New("--port must be between 1 and 65534 (the intro page uses the next port)")
			}
			if users < 0 || users > 1_000_000 {
				return errors.New("--users must be between 0 and 1000000")
			}
			return a.demo(cmd.Context(), demoParams{port: port, users: users, open: open, start: time.Now()})
		},
	}
	cmd.Flags().IntVar(&port, "port", 9876, "port of the instance; the intro page listens on the next one")
	cmd.Flags().IntVar(&users, "users", 500, "number of visitors to generate")
	cmd.Flags().BoolVar(&open, "open", false, "open the intro page in the default browser")
	return cmd
}

type demoParams struct {
	port, users int
	open        bool
	start       time.Time
}

// demo runs `offen demo`: it seeds a temporary instance and serves it until
// ctx ends, then deletes its files.
func (a *app) demo(ctx context.Context, p demoParams) error {
	// The intro page plays the operator's website on its own origin, same
	// site as the instance (both localhost), as a sibling subdomain would be.
	introLn, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port+1)))
	if err != nil {
		return fmt.Errorf("intro page: %w (choose another --port)", err)
	}
	defer introLn.Close()
	publicURL := "http://localhost:" + strconv.Itoa(p.port)
	introURL := "http://localhost:" + strconv.Itoa(p.port+1)

	dir, err := os.MkdirTemp("", "offen-demo-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	cfg, err := demoConfig(a.getenv, map[string]string{
		"OFFEN_SERVER_PORT":               strconv.Itoa(p.port),
		"OFFEN_SERVER_PUBLICURL":          publicURL,
		"OFFEN_DATABASE_DIALECT":          "sqlite3",
		"OFFEN_DATABASE_CONNECTIONSTRING": filepath.Join(dir, "offen.db"),
		"OFFEN_SECRET":                    base64.StdEncoding.EncodeToString(secret),
		"OFFEN_APP_SINGLENODE":            "true",
	})
	if err != nil {
		return err
	}
	logger, err := newLogger(cfg, a.stderr)
	if err != nil {
		return err
	}

	// The test page of the hint is allowed too, so that the printed tag
	// can be tried in a page of one's own.
	testPage := "http://localhost:" + strconv.Itoa(testPagePort)
	account, err := seedDemo(ctx, logger, cfg, secret, p.users, []string{introURL, testPage})
	if err != nil {
		return err
	}

	page, err := renderIntroPage(introPage{
		PublicURL: publicURL, AccountID: account.ID, Email: demoEmail, Password: demoPassword,
	})
	if err != nil {
		return err
	}
	intro := &http.Server{
		Handler:           introHandler(page),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = intro.Serve(introLn) }()
	defer intro.Close()

	listening := func(net.Addr) {
		fmt.Fprintf(a.stdout, "\nOffen demo is ready (%d visitors, started in %s).\n\n"+
			"  Intro page (embeds the script, try the visitor side):  %s/\n"+
			"  Dashboard (log in first):                             %s/login/\n"+
			"  Your own data as a visitor:                           %s/auditorium/\n"+
			"  Console:                                              %s/console/\n\n"+
			"  Login: %s   Password: %s\n\n"+
			"The tag of the demo account, for a page of your own:\n\n  %s\n\n%s\n\n"+
			"Mails are written to the log. Press Ctrl+C to stop; the demo data is then deleted.\n",
			p.users, time.Since(p.start).Round(time.Millisecond),
			introURL, publicURL, publicURL, publicURL, demoEmail, demoPassword,
			scriptTag(publicURL, account.ID), testPageHint(publicURL))
		if p.open {
			openBrowser(introURL + "/")
		}
	}
	return a.serveWith(ctx, cfg, serveOptions{
		host: "127.0.0.1", logger: logger, logMail: true, listening: listening,
	})
}

// demoConfig is the demo's configuration: values and defaults, plus the
// logging and language settings of the environment. Env files are ignored:
// the demo must not pick up a real instance's database.
func demoConfig(getenv func(string) string, values map[string]string) (Config, error) {
	kept := map[string]bool{
		"OFFEN_APP_LOGLEVEL": true, "OFFEN_APP_LOGFORMAT": true,
		"OFFEN_APP_LOCALE": true, "OFFEN_APP_RETENTION": true,
	}
	cfg, _, err := loadConfig(loadOptions{
		Getenv: func(k string) string {
			if kept[k] {
				return getenv(k)
			}
			return ""
		},
		Flags:    values,
		ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
	})
	if err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%s", indent(err.Error()))
	}
	return cfg, nil
}

// seedDemo creates the demo database: schema, login and account (as `offen
// setup` does), allowed origins, and the generated history of users
// visitors. The key derivations of the login run while the schema is
// migrated and the history generated.
func seedDemo(ctx context.Context, logger *slog.Logger, cfg Config, secret []byte, users int, origins []string) (persistence.Account, error) {
	instance, err := keys.DeriveInstanceKeys(secret)
	if err != nil {
		return persistence.Account{}, err
	}
	type setupResult struct {
		in    persistence.SetupInput
		goals string
		err   error
	}
	setupDone := make(chan setupResult, 1)
	go func() {
		in, code, err := setupInput(instance, demoEmail, demoAccount, demoPassword)
		var goals string
		if err == nil {
			goals, err = sealDemoGoals(in, code)
		}
		setupDone <- setupResult{in, goals, err}
	}()
	historyDone := make(chan []demoVisitor, 1)
	go func() {
		historyDone <- generateHistory(users, time.Now(), cfg.App.Retention.Duration(), runtime.NumCPU())
	}()

	store, err := newStore(ctx, cfg, logger.With("phase", "demo"))
	if err != nil {
		return persistence.Account{}, err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return persistence.Account{}, fmt.Errorf("migrate database: %w", err)
	}
	res := <-setupDone
	if res.err != nil {
		return persistence.Account{}, res.err
	}
	res.in.Account.AllowedOrigins = origins
	account, err := store.Setup(ctx, res.in)
	if err != nil {
		return persistence.Account{}, fmt.Errorf("create the demo login: %w", err)
	}
	if err := store.UpdateGoals(ctx, account.ID, res.goals); err != nil {
		return persistence.Account{}, fmt.Errorf("store the demo goals: %w", err)
	}
	if account.UserSalt == nil {
		if account, err = store.FindAccount(ctx, account.ID); err != nil {
			return persistence.Account{}, err
		}
	}
	visitors := <-historyDone
	written := time.Now()
	if err := writeHistory(ctx, store, account, visitors, runtime.NumCPU()); err != nil {
		return persistence.Account{}, fmt.Errorf("write the demo history: %w", err)
	}
	events := 0
	for _, v := range visitors {
		events += len(v.events)
	}
	logger.Info("demo data written", "visitors", len(visitors), "events", events,
		"duration", time.Since(written).Round(time.Millisecond).String())
	return account, nil
}

// openBrowser asks the desktop to open url; failures are ignored (the URL is
// printed anyway).
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err == nil {
		go func() { _ = cmd.Wait() }()
	}
}

//go:embed demo_intro.html
var introTemplate string

// introPage holds the values of the intro page template.
type introPage struct {
	PublicURL, AccountID, Email, Password string
}

func renderIntroPage(p introPage) ([]byte, error) {
	t, err := template.New("intro").Parse(introTemplate)
	if err != nil {
		return nil, fmt.Errorf("intro page: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("intro page: %w", err)
	}
	return []byte(b.String()), nil
}

// introHandler serves the intro page at / and /page-2/ (so that a second page
// view can be tried) and 404 elsewhere.
func introHandler(page []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/page-2/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(page)
	})
}
