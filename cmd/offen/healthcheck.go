// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd asks the local server's /healthz, for container health
// checks in images without curl. It reads the same configuration as serve to
// find the port and scheme.
func newHealthcheckCmd(a *app) *cobra.Command {
	var (
		url     string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Check that the local server answers /healthz (exit status 0 when healthy)",
		Long: "Check that the server on this machine answers /healthz with 200, as a\n" +
			"container HEALTHCHECK. The URL follows the configuration: https on 443 with\n" +
			"autocert, https on OFFEN_SERVER_PORT with certificate files, else http.\n" +
			"The certificate is not verified, as the check talks to 127.0.0.1.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config(nil, false)
			if err != nil {
				return err
			}
			target, serverName := healthcheckURL(cfg)
			if url != "" {
				target = url
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			client := &http.Client{Transport: &http.Transport{
				// Loopback to ourselves: the name is sent for autocert's
				// certificate choice, the chain is not what is checked here.
				TLSClientConfig: &tls.Config{ServerName: serverName, InsecureSkipVerify: true}, //nolint:gosec
			}}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("healthcheck: %s answered %d: %s", target, resp.StatusCode, body)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "healthy: %s\n", target)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "URL to check instead of the one derived from the configuration")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// healthcheckURL is the local /healthz URL for cfg, and the TLS server name
// to send.
func healthcheckURL(cfg Config) (url, serverName string) {
	switch {
	case len(cfg.Server.AutoTLS) > 0:
		return "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(autocertHTTPSPort)) + "/healthz", cfg.Server.AutoTLS[0]
	case cfg.Server.SSLCertificate != "":
		return "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Server.Port)) + "/healthz", ""
	default:
		return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Server.Port)) + "/healthz", ""
	}
}
