// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/offen/offen/persistence/relational"
	"github.com/spf13/cobra"
)

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Long: "Apply pending database migrations. Multi-node deployments\n" +
			"(OFFEN_APP_SINGLENODE=false) run this once per upgrade, before starting the new version.\n" +
			"Running it on a current schema does nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(cfg Config, store *relational.Store) error {
				before, err := store.SchemaStatus(ctx)
				if err != nil {
					return fmt.Errorf("read schema status: %w", err)
				}
				if unknown := before.Unknown(); len(unknown) > 0 {
					return fmt.Errorf("the database was migrated by a newer offen (unknown migrations %v); upgrade this binary", unknown)
				}
				if err := store.Migrate(ctx); err != nil {
					return fmt.Errorf("migrate: %w", err)
				}
				pending := before.Pending()
				if len(pending) == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "schema is up to date (%d migrations applied); nothing to do\n", len(before.Applied))
					return nil
				}
				fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s): %v\n", len(pending), pending)
				return nil
			})
		},
	}
}
