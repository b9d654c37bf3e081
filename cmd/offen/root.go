// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// env is what a command may touch of its process: the environment and the
// standard streams. Tests pass their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// app is shared by all commands: the process env and the persistent flags.
type app struct {
	env
	envFile string
}

// config loads and validates the configuration once per command run. flags
// maps variable names to values given on the command line; requireSecret is
// set by commands that need OFFEN_SECRET.
func (a *app) config(flags map[string]string, requireSecret bool) (Config, error) {
	cfg, _, err := loadConfig(loadOptions{Getenv: a.getenv, EnvFile: a.envFile, Flags: flags})
	if requireSecret {
		err = errors.Join(err, cfg.RequireSecret())
	}
	if err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%s", indent(err.Error()))
	}
	return cfg, nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// newRootCmd builds the offen command tree. Bare `offen` serves.
func newRootCmd(e env) *cobra.Command {
	a := &app{env: e}
	serve := newServeCmd(a)
	root := &cobra.Command{
		Use:   "offen",
		Short: "Offen is a fair web analytics server",
		Long: "Offen is a fair web analytics server. Without a command it serves (like `offen serve`).\n\n" +
			settingsHelp(),
		Args:              cobra.NoArgs,
		RunE:              serve.RunE,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.Flags().AddFlagSet(serve.Flags())
	root.PersistentFlags().StringVar(&a.envFile, "envfile", "", "read settings from this file instead of searching for offen.env")
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(
		serve,
		newMigrateCmd(a),
		newExpireCmd(a),
		newSecretCmd(a),
		newVersionCmd(a),
		newConfigCmd(a),
		newSetupCmd(a),
		newHealthcheckCmd(a),
		newDemoCmd(a),
	)
	return root
}

// settingsHelp lists every setting for --help.
func settingsHelp() string {
	var b strings.Builder
	b.WriteString("Settings come from flags, then OFFEN_* environment variables, then the env file\n" +
		"(--envfile, or the first of ./offen.env, $XDG_CONFIG_HOME/offen/offen.env,\n" +
		"$HOME/.config/offen/offen.env, /etc/offen/offen.env), then these defaults.\n" +
		"Secrets may also be read from the file named by <NAME>_FILE.\n")
	section := ""
	for _, s := range settings {
		if s.section != section {
			section = s.section
			fmt.Fprintf(&b, "\n%s:\n", section)
		}
		def := s.def
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "  %-34s %s\n  %-34s default: %s\n", s.env, s.help, "", def)
	}
	return strings.TrimRight(b.String(), "\n")
}
