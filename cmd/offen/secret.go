// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"
)

func newSecretCmd(a *app) *cobra.Command {
	var length, count int
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Print random secrets for the configuration",
		Long: "Print random secrets (standard base64), one per line, e.g. for OFFEN_SECRET:\n\n" +
			"  echo \"OFFEN_SECRET=$(offen secret)\" >> offen.env",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if length < minSecretBytes {
				return fmt.Errorf("--length %d is too short; use at least %d bytes", length, minSecretBytes)
			}
			if count < 1 {
				return fmt.Errorf("--count %d must be at least 1", count)
			}
			b := make([]byte, length)
			for range count {
				rand.Read(b)
				fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(b))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&length, "length", minSecretBytes, "bytes of randomness per secret")
	cmd.Flags().IntVar(&count, "count", 1, "number of secrets to print")
	return cmd
}
