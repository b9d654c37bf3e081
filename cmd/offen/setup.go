// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// minPasswordLength is the password policy's minimum (PROTOCOL §2.2).
const minPasswordLength = 10

func newSetupCmd(a *app) *cobra.Command {
	var (
		email, name, password string
		populate, force       bool
	)
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create the first login and account",
		Long: "Create the first admin login and its first account, doing in Go what the browser\n" +
			"setup does: the password never reaches the database, only keys derived from it.\n" +
			"The password is asked for without echo (or read from standard input when it is\n" +
			"not a terminal); --password puts it into the process list and shell history.\n" +
			"Prints the account id, the script tag to embed and the recovery code, once.\n\n" +
			"--populate writes a new OFFEN_SECRET to the env file when none is set.\n" +
			"A database that already has a login is refused unless --force.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup(cmd.Context(), setupParams{
				email: email, name: name, password: password,
				passwordGiven: cmd.Flags().Changed("password"), populate: populate, force: force,
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address of the login (required)")
	cmd.Flags().StringVar(&name, "name", "", "name of the first account (required)")
	cmd.Flags().StringVar(&password, "password", "", "password (not recommended: prompted for when not given)")
	cmd.Flags().BoolVar(&populate, "populate", false, "write a missing OFFEN_SECRET to the env file")
	cmd.Flags().BoolVar(&force, "force", false, "add the login and account even if the database has logins")
	return cmd
}

type setupParams struct {
	email, name, password string
	passwordGiven         bool
	populate, force       bool
}

// setup runs `offen setup`.
func (a *app) setup(ctx context.Context, p setupParams) error {
	if _, err := keys.NormalizeEmail(p.email); err != nil {
		return errors.New("--email must be an e-mail address")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(p.name)); n < 1 || n > persistence.MaxAccountNameLength {
		return fmt.Errorf("--name must have 1 to %d characters", persistence.MaxAccountNameLength)
	}
	if p.populate {
		if err := a.populateSecret(); err != nil {
			return err
		}
	}
	cfg, err := a.config(nil, true)
	if err != nil {
		return err
	}
	secret, _ := serverSecrets(cfg)
	instance, err := keys.DeriveInstanceKeys(secret)
	if err != nil {
		return err
	}

	// The database is checked before the password is asked for: typing a
	// password only to learn that the database is taken wastes the effort.
	store, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	if !p.force {
		has, err := store.HasLogins(ctx)
		if err != nil {
			return fmt.Errorf("check for logins: %w", err)
		}
		if has {
			return errors.New("the database already has a login; run with --force to add another login and account anyway")
		}
	}
	password := p.password
	if !p.passwordGiven {
		if password, err = a.readPassword(); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(a.stderr, "warning: --password is visible to other users of this machine; prefer the prompt")
	}
	if utf8.RuneCountInString(password) < minPasswordLength {
		return fmt.Errorf("the password must have at least %d characters", minPasswordLength)
	}

	in, recoveryCode, err := setupInput(instance, p.email, strings.TrimSpace(p.name), password)
	if err != nil {
		return err
	}
	in.Force = p.force
	account, err := store.Setup(ctx, in)
	if errors.Is(err, persistence.ErrConflict) {
		return errors.New("the database already has a login (or this e-mail address); run with --force to add another login and account")
	}
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	out := a.stdout
	fmt.Fprintf(out, "Created the login %s and the account %q.\n\n", p.email, account.Name)
	fmt.Fprintf(out, "Account id: %s\n\n", account.ID)
	fmt.Fprintf(out, "Embed this on your site:\n\n  %s\n\n%s\n\n", scriptTag(cfg.Server.PublicURL, account.ID), testPageHint(cfg.Server.PublicURL))
	fmt.Fprintf(out, "Recovery code (shown only now; keep it safe, it restores access to your data after a forgotten password):\n\n  %s\n\n",
		keys.FormatRecoveryCode(recoveryCode))
	fmt.Fprintf(out, "Log in at %s/login/\n", cfg.Server.PublicURL)
	return nil
}

// setupInput does the client's side of setup (PROTOCOL §4 "Setup"): keys
// from the password and a new salt, a login key, a recovery code, and an
// account with its key pair and KEK, wrapped as the browser would.
func setupInput(instance keys.InstanceKeys, email, name, password string) (persistence.SetupInput, []byte, error) {
	fail := func(err error) (persistence.SetupInput, []byte, error) {
		return persistence.SetupInput{}, nil, fmt.Errorf("derive keys: %w", err)
	}
	index, err := keys.EmailIndex(instance.EmailIndex, email)
	if err != nil {
		return fail(err)
	}
	loginID, accountID := keys.NewUUID(), keys.NewUUID()
	salt := keys.NewSalt()
	lk, err := keys.DeriveLoginKeys(password, salt, keys.KDFIterations)
	if err != nil {
		return fail(err)
	}
	authHash, err := keys.HashAuthKey(lk.AuthKey)
	if err != nil {
		return fail(err)
	}
	loginKey := keys.NewKey()
	wrappedLoginKey, err := keys.WrapLoginKey(lk.WrapKey, loginID, loginKey)
	if err != nil {
		return fail(err)
	}
	code := keys.NewRecoveryCode()
	rk, err := keys.DeriveRecoveryKeys(code)
	if err != nil {
		return fail(err)
	}
	recoveryWrapped, err := keys.RecoveryWrapLoginKey(rk.Key, loginID, loginKey)
	if err != nil {
		return fail(err)
	}
	priv, err := keys.GenerateAccountKey()
	if err != nil {
		return fail(err)
	}
	publicKey, err := keys.FormatPublicKey(priv.PublicKey())
	if err != nil {
		return fail(err)
	}
	kek := keys.NewKey()
	encryptedPrivateKey, err := keys.EncryptPrivateKey(kek, accountID, priv)
	if err != nil {
		return fail(err)
	}
	wrappedKEK, err := keys.WrapKEK(loginKey, accountID, kek)
	if err != nil {
		return fail(err)
	}
	label, err := keys.EncryptLabel(kek, accountID, email)
	if err != nil {
		return fail(err)
	}
	// Check the wrapping as the browser does before sending it.
	if got, err := keys.UnwrapLoginKey(lk.WrapKey, loginID, wrappedLoginKey); err != nil || !keys.Equal(got, loginKey) {
		return fail(errors.New("login key does not unwrap"))
	}
	return persistence.SetupInput{
		Login: persistence.Login{
			ID:         loginID,
			EmailIndex: index,
			FromSetup:  true,
			Credentials: persistence.Credentials{
				KDF:                     fmt.Sprintf("%s:%d", keys.KDFName, keys.KDFIterations),
				KDFSalt:                 salt,
				AuthHash:                authHash,
				WrappedLoginKey:         wrappedLoginKey,
				RecoveryWrappedLoginKey: recoveryWrapped,
				RecoveryProofHash:       fmt.Sprintf("%x", keys.HashToken(rk.Proof)),
			},
		},
		Account: persistence.Account{ID: accountID, Name: name, PublicKey: publicKey, EncryptedPrivateKey: encryptedPrivateKey},
		Grant:   persistence.Grant{Role: persistence.RoleAdmin, WrappedKEK: wrappedKEK, Label: label},
	}, code, nil
}

// readPassword prompts twice without echo on a terminal, or reads one line
// from standard input otherwise (for scripts: `offen setup ... < file`).
func (a *app) readPassword() (string, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.stderr, "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(a.stderr, "Repeat the password: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the passwords differ")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password: give it on standard input or at the prompt")
	}
	return line, nil
}

// populateSecret appends a fresh OFFEN_SECRET to the env file when the
// configuration has none: the --envfile, else the env file found, else
// offen.env in the working directory (created with mode 0600).
func (a *app) populateSecret() error {
	cfg, found, _ := loadConfig(loadOptions{Getenv: a.getenv, EnvFile: a.envFile})
	if cfg.Secrets.Secret != "" {
		return nil
	}
	path := found
	if path == "" {
		path = "offen.env"
	}
	b := make([]byte, minSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("--populate: %w", err)
	}
	defer f.Close()
	prefix := ""
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		if last, err := lastByte(path); err == nil && last != '\n' {
			prefix = "\n"
		}
	}
	if _, err := fmt.Fprintf(f, "%sOFFEN_SECRET=%s\n", prefix, base64.StdEncoding.EncodeToString(b)); err != nil {
		return fmt.Errorf("--populate: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--populate: %w", err)
	}
	if a.envFile == "" {
		a.envFile = path
	}
	fmt.Fprintf(a.stderr, "wrote a new OFFEN_SECRET to %s; keep it: losing it orphans every login\n", path)
	return nil
}

func lastByte(path string) (byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return 0, err
	}
	return b[len(b)-1], nil
}

// scriptTag is the tag a site embeds for the account id.
func scriptTag(publicURL, accountID string) string {
	return fmt.Sprintf(`<script async src="%s/script.js" data-account-id="%s"></script>`, publicURL, accountID)
}

// testPagePort is the port the hints suggest for a local test page.
const testPagePort = 8800

// testPageHint says where a page with the tag must live for consent to
// work: on the same site as Offen. Browsers keep the consent cookie of a
// cross-site frame from being stored, so a page on 127.0.0.1 fails with
// Offen on localhost although both are this machine.
func testPageHint(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	if host == "localhost" || net.ParseIP(host).IsLoopback() {
		page := fmt.Sprintf("http://%s:%d/", hostForURL(host), testPagePort)
		return fmt.Sprintf("To try it on this machine, put the tag in an HTML page, serve its folder with\n"+
			"  python3 -m http.server %d --bind 127.0.0.1\n"+
			"and open %s. Use the host name %s, as the tag does: to the browser a\n"+
			"page on another host name (127.0.0.1 and localhost included) is another site,\n"+
			"and it keeps the consent from being stored.", testPagePort, page, host)
	}
	return fmt.Sprintf("Put it on pages of the same site as %s (for example www.%s for offen.%s):\n"+
		"browsers keep the consent from being stored for pages of other sites.", host, parentDomain(host), parentDomain(host))
}

func hostForURL(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// parentDomain drops the first label of host (offen.example.org gives
// example.org); a host of two labels or fewer is returned as it is.
func parentDomain(host string) string {
	if strings.Count(host, ".") < 2 {
		return host
	}
	_, rest, _ := strings.Cut(host, ".")
	return rest
}
