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
	// environ lists the environment (for unknown OFFEN_* names); nil in
	// tests that need no such warnings.
	environ func() []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
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
	r := inspectConfig(a.loadOptions(flags))
	cfg, err := r.cfg, r.err
	for _, w := range r.unknowns {
		fmt.Fprintln(a.stderr, "warning: "+w)
	}
	if requireSecret {
		err = errors.Join(err, cfg.RequireSecret())
	}
	if err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%s", indent(err.Error()))
	}
	return cfg, nil
}

// loadOptions reads the configuration of this process.
func (a *app) loadOptions(flags map[string]string) loadOptions {
	return loadOptions{Getenv: a.getenv, Environ: a.environ, EnvFile: a.envFile, Flags: flags}
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
		Args:              unknownCommand,
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

// unknownCommand refuses arguments to bare `offen` (which serves), naming
// the nearest command: cobra's own check suggests nothing once the root
// command has Args set.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return fmt.Errorf("unknown command %q; did you mean %q? Run `offen --help` for the list of commands", args[0], nearest(args[0], names))
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
