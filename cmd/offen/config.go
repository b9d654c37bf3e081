// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newConfigCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration, secrets redacted",
		Long: "Print the effective configuration in env-file form, with secrets redacted,\n" +
			"followed by any problems found. Useful when asking for support.\n\n" + settingsHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, envFile, err := loadConfig(loadOptions{Getenv: a.getenv, EnvFile: a.envFile})
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
				fmt.Fprintf(out, "%s=%s\n", s.env, cfg.value(s, false))
			}
			if err != nil {
				return fmt.Errorf("invalid configuration:\n%s", indent(err.Error()))
			}
			return nil
		},
	}
}
