// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/offen/offen/persistence/relational"
	"github.com/spf13/cobra"
)

func newExpireCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "expire",
		Short: "Delete data older than the retention period",
		Long: "Delete events older than OFFEN_APP_RETENTION, their orphaned secrets, old\n" +
			"tombstones and expired sessions and tokens. Multi-node deployments run this\n" +
			"hourly from cron; single-node serve does it by itself.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(cfg Config, store *relational.Store) error {
				status, err := store.SchemaStatus(ctx)
				if err != nil {
					return fmt.Errorf("read schema status: %w", err)
				}
				if !status.Current() {
					return fmt.Errorf("the database schema lacks %d migration(s); run `offen migrate` first", len(status.Pending()))
				}
				res, err := store.Expire(ctx, cfg.App.Retention.Duration())
				if err != nil {
					return fmt.Errorf("expire: %w", err)
				}
				out := cmd.OutOrStdout()
				if res.Skipped {
					fmt.Fprintln(out, "another instance is expiring data right now; nothing done")
					return nil
				}
				fmt.Fprintf(out, "expired data older than %s: %d events, %d secrets, %d segments, %d tombstones, %d sessions, %d tokens\n",
					cfg.App.Retention, res.Events, res.Secrets, res.Segments, res.Tombstones, res.Sessions, res.Tokens)
				return nil
			})
		},
	}
}
