// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offen/offen/auditorium"
	"github.com/offen/offen/keys"
	offlocales "github.com/offen/offen/locales"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence"
	"github.com/offen/offen/script"
	"github.com/offen/offen/server"
	"github.com/spf13/cobra"
)

// expireInterval is how often single-node mode runs expiry.
const expireInterval = time.Hour

func newServeCmd(a *app) *cobra.Command {
	var (
		port int
		host string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (the default command)",
		Long: "Run the server until SIGINT or SIGTERM, then finish in-flight requests.\n" +
			"In single-node mode (OFFEN_APP_SINGLENODE=true) it applies pending migrations\n" +
			"and deletes expired data at start and every hour.\n\n" + settingsHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := map[string]string{}
			if cmd.Flags().Changed("port") {
				flags["OFFEN_SERVER_PORT"] = strconv.Itoa(port)
			}
			cfg, err := a.config(flags, true)
			if err != nil {
				return err
			}
			return a.serve(cmd.Context(), cfg, host)
		},
	}
	cmd.Flags().IntVar(&port, "port", 0, "listen port (overrides OFFEN_SERVER_PORT)")
	cmd.Flags().StringVar(&host, "host", "", "listen address (default: all interfaces)")
	return cmd
}

// serve runs the server with cfg until ctx ends.
func (a *app) serve(ctx context.Context, cfg Config, host string) error {
	return a.serveWith(ctx, cfg, serveOptions{host: host})
}

// serveOptions adapt serve for `offen demo`.
type serveOptions struct {
	// host is the listen address (empty: all interfaces).
	host string
	// logger replaces the one built from cfg when set.
	logger *slog.Logger
	// logMail makes mails go to the log, links included (development only).
	logMail bool
	// listening is called once the listener is bound.
	listening func(net.Addr)
}

// serveWith runs the server with cfg and o until ctx ends.
func (a *app) serveWith(ctx context.Context, cfg Config, o serveOptions) error {
	logger := o.logger
	if logger == nil {
		var err error
		if logger, err = newLogger(cfg, a.stderr); err != nil {
			return err
		}
	}
	store, err := newStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			logger.Error("close database", "error", err)
		}
	}()

	var wg sync.WaitGroup
	defer wg.Wait()
	// Background work stops before the store closes (defers run in reverse).
	bgCtx, cancelBackground := context.WithCancel(ctx)
	defer cancelBackground()

	if cfg.App.SingleNode {
		if err := store.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate database: %w", err)
		}
		wg.Go(func() { expireLoop(bgCtx, logger, store, cfg.App.Retention.Duration(), expireInterval) })
	} else {
		status, err := store.SchemaStatus(ctx)
		if err != nil {
			return fmt.Errorf("check database schema: %w", err)
		}
		if !status.Current() {
			return fmt.Errorf("the database schema lacks %d migration(s) (%s); run `offen migrate` first",
				len(status.Pending()), strings.Join(status.Pending(), ", "))
		}
	}

	if err := store.WarmAccountCache(ctx); err != nil {
		logger.Warn("reading the accounts for the vault during outages failed", "error", err)
	}

	var mail mailer.Mailer = mailer.NewLog(logger, true)
	if !o.logMail {
		if mail, err = newMailer(cfg, logger); err != nil {
			return err
		}
	}
	loc, err := offlocales.New()
	if err != nil {
		return fmt.Errorf("load translations: %w", err)
	}
	setupToken, err := setupLink(ctx, logger, store, cfg.Server.PublicURL)
	if err != nil {
		return err
	}
	secret, previous := serverSecrets(cfg)
	version := resolveVersion()
	trusted, err := trustedProxies(cfg)
	if err != nil {
		return err
	}
	handler := server.New(logger, server.Options{
		Version:         version.Version,
		Revision:        version.Commit,
		PublicURL:       cfg.Server.PublicURL,
		TrustedProxies:  trusted,
		InstanceSecret:  secret,
		PreviousSecret:  previous,
		SetupToken:      setupToken,
		InstanceOrigins: autoTLSOrigins(cfg.Server.AutoTLS),
		Locale:          cfg.App.Locale,
		Retention:       cfg.App.Retention.Duration(),
		Argon2Workers:   cfg.Server.Argon2Workers,
	}, store, mail, loc, auditorium.FS(), script.FS)
	listen, err := listenOptions(cfg, o.host, store, logger)
	if err != nil {
		return err
	}
	listen.Listening = o.listening
	return server.Listen(ctx, logger, listen, handler)
}

// expireLoop deletes expired data now and then every interval until ctx ends.
// A failed run is logged and tried again at the next tick; the loop never
// stops on errors.
func expireLoop(ctx context.Context, logger *slog.Logger, store persistence.Maintenance, retention, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		res, err := store.Expire(ctx, retention)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			logger.Error("expire data; retrying next run", "error", err, "next", interval.String())
		case res.Skipped:
			logger.Debug("expire skipped: another instance holds the lease")
		default:
			logger.Info("expired data", "events", res.Events, "secrets", res.Secrets, "segments", res.Segments,
				"tombstones", res.Tombstones, "sessions", res.Sessions, "tokens", res.Tokens)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// setupLink makes the setup token of this start while no login exists and
// logs the link that the browser setup needs (PROTOCOL §4 "Setup"). The
// token lives in memory only; once a login exists there is none.
func setupLink(ctx context.Context, logger *slog.Logger, store persistence.Logins, publicURL string) (string, error) {
	has, err := store.HasLogins(ctx)
	if err != nil {
		return "", fmt.Errorf("check for logins: %w", err)
	}
	if has {
		return "", nil
	}
	_, token := keys.NewToken()
	logger.Warn("no login exists yet: finish the setup in the browser, or run `offen setup`",
		"url", strings.TrimSuffix(publicURL, "/")+"/setup/#"+token)
	return token, nil
}

// autoTLSOrigins are the https origins of the autotls host names.
func autoTLSOrigins(hosts []string) []string {
	var origins []string
	for _, h := range hosts {
		origins = append(origins, "https://"+h)
	}
	return origins
}
