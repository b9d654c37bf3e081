// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence/relational"
)

// newLogger builds the one logger of the process, writing to w.
func newLogger(cfg Config, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(cfg.App.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("OFFEN_APP_LOGLEVEL: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.App.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// withStore reads the configuration from the environment, opens the
// configured database, runs fn with both and closes the database.
func (a *app) withStore(ctx context.Context, fn func(Config, *relational.Store) error) error {
	cfg, err := a.config(nil, false)
	if err != nil {
		return err
	}
	store, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(cfg, store)
}

// openStore opens the database of cfg with the process logger of cfg.
func (a *app) openStore(ctx context.Context, cfg Config) (*relational.Store, error) {
	logger, err := newLogger(cfg, a.stderr)
	if err != nil {
		return nil, err
	}
	return newStore(ctx, cfg, logger)
}

// newStore opens the configured database.
func newStore(ctx context.Context, cfg Config, logger *slog.Logger) (*relational.Store, error) {
	store, err := relational.Open(ctx, relational.Options{
		Dialect:           cfg.Database.Dialect,
		DSN:               cfg.Database.ConnectionString,
		ConnectionRetries: cfg.Database.ConnectionRetries,
		Logger:            logger,
		Now:               time.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", cfg.Database.Dialect, err)
	}
	return store, nil
}

// newMailer picks the mail transport (mailer.New): SMTP when OFFEN_SMTP_HOST
// is set, else a local sendmail when one is on PATH, else the log mailer,
// which warns that reset and invitation mails go nowhere.
func newMailer(cfg Config, logger *slog.Logger) (mailer.Mailer, error) {
	m, err := mailer.New(mailer.SMTPOptions{
		Host:     cfg.SMTP.Host,
		Port:     cfg.SMTP.Port,
		Username: cfg.SMTP.User,
		Password: cfg.SMTP.Password,
		Sender:   cfg.SMTP.Sender,
		Auth:     cfg.SMTP.AuthType,
	}, logger, false)
	if err != nil {
		return nil, fmt.Errorf("mail transport: %w", err)
	}
	return m, nil
}

// serverSecrets decodes the instance secrets for server.Options (nil when
// unset; the configuration has validated them).
func serverSecrets(cfg Config) (current, previous []byte) {
	if cfg.Secrets.Secret != "" {
		current, _ = decodeSecret(cfg.Secrets.Secret)
	}
	if cfg.Secrets.SecretPrevious != "" {
		previous, _ = decodeSecret(cfg.Secrets.SecretPrevious)
	}
	return current, previous
}
