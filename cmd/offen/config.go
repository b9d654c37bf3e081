// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newConfigCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration, secrets redacted",
		Long: "Print the effective configuration in env-file form, with secrets redacted and\n" +
			"values that do not parse shown as given, followed by every problem found (a\n" +
			"missing OFFEN_SECRET included); the exit status is non-zero when there are any.\n" +
			"OFFEN_* names that are no setting are warned of with the nearest setting.\n" +
			"Useful when asking for support.\n\n" + settingsHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := inspectConfig(a.loadOptions(nil))
			cfg, envFile := r.cfg, r.envFile
			// serve refuses to start without a secret, so a configuration
			// lacking one is not one to report as fine.
			err := errors.Join(r.err, cfg.RequireSecret())
			out := cmd.OutOrStdout()
			if envFile == "" {
				envFile = "(none found)"
			}
			fmt.Fprintf(out, "# env file: %s\n", envFile)
			section := ""
			for _, s := range settings {
				if s.section != section {
					section = s.section
					fmt.Fprintf(out, "\n# %s\n", section)
				}
				// A value that did not parse is shown as given, not as the
				// default that replaced it.
				if raw, bad := r.rawBad[s.env]; bad && !s.secret {
					fmt.Fprintf(out, "%s=%s  # invalid, see below\n", s.env, raw)
					continue
				}
				fmt.Fprintf(out, "%s=%s\n", s.env, cfg.value(s, false))
			}
			for _, w := range r.unknowns {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
			}
			if err != nil {
				return fmt.Errorf("invalid configuration:\n%s", indent(err.Error()))
			}
			return nil
		},
	}
}
