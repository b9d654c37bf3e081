// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import (
	"context"
	"time"
)

// Credentials are what the server keeps of an operator's password and
// recovery code (PROTOCOL.md §2.2, §5). None of it decrypts anything.
type Credentials struct {
	// KDF names the client's key derivation, e.g. "pbkdf2-sha256:600000".
	KDF string
	// KDFSalt is the client's KDF salt (16 random bytes, new at every set).
	KDFSalt []byte
	// AuthHash is the argon2id1 hash of the auth key.
	AuthHash string
	// WrappedLoginKey is the login key under the wrap key ("a1.…").
	WrappedLoginKey string
	// RecoveryWrappedLoginKey is the login key under the recovery key ("a1.…").
	RecoveryWrappedLoginKey string
	// RecoveryProofHash is hex SHA-256 of the recovery proof.
	RecoveryProofHash string
}

// Login is an operator identity. A login created by an invitation is
// pending, without credentials, until its holder joins.
type Login struct {
	// ID is a lowercase UUIDv4.
	ID string
	// EmailIndex is hex HMAC-SHA256 of the normalized address (64 chars).
	EmailIndex string
	// FromSetup marks the login setup created; it may create accounts.
	FromSetup bool
	// Credentials are empty while the login is pending.
	Credentials
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt time.Time // zero before the first login
}

// Pending reports whether the login has no credentials yet.
func (l Login) Pending() bool { return l.AuthHash == "" }

// SetupInput is the first account, its login and the login's admin grant.
type SetupInput struct {
	Login   Login   // with credentials; FromSetup is set by the store
	Account Account // as for CreateAccount
	Grant   Grant   // WrappedKEK and Label; role admin, ids set by the store
	// Session, when set, is created in the same transaction.
	Session *Session
	// Force skips the refusal when logins exist (offen setup --force).
	Force bool
}

// PasswordChange replaces a login's password-derived credentials.
type PasswordChange struct {
	KDF             string
	KDFSalt         []byte
	AuthHash        string
	WrappedLoginKey string
}

// ResetInput resets a login's credentials with a reset token.
type ResetInput struct {
	// TokenHash is hex SHA-256 of the reset token; the token is consumed.
	TokenHash string
	// Credentials are the complete new credentials.
	Credentials Credentials
	// KeepGrants is true for a reset with the recovery code (the login key
	// stays); false turns every active grant of the login into reshare.
	KeepGrants bool
	// Session is the caller's new session, created after all others of the
	// login are deleted.
	Session Session
}

// JoinInput accepts an invitation.
type JoinInput struct {
	// TokenHash is hex SHA-256 of the invite token; the token is consumed.
	TokenHash string
	// LoginID must be the invitation's login: the caller's login for an
	// existing login, the login found by the lookup for a pending one.
	LoginID string
	// Credentials are required when the login is pending and must be empty
	// otherwise.
	Credentials *Credentials
	// WrappedKEKs maps every account of the invitation's pending grants to the
	// KEK wrapped under the login key.
	WrappedKEKs map[string]string
	// Session is the caller's new session.
	Session Session
}

// Logins stores operator logins and the transactions that change their
// credentials.
type Logins interface {
	// HasLogins reports whether any login exists (pending ones included).
	HasLogins(ctx context.Context) (bool, error)
	// FindLogin returns the login with that id, or ErrNotFound.
	FindLogin(ctx context.Context, id string) (Login, error)
	// FindLoginByEmailIndex returns the login with that e-mail index, or
	// ErrNotFound.
	FindLoginByEmailIndex(ctx context.Context, emailIndex string) (Login, error)
	// Setup creates account, login (FromSetup) and its admin grant in one
	// transaction (plus the session, if given), and returns the account as
	// stored. It returns ErrConflict when any login exists (unless Force) or
	// the account id or e-mail index is taken, and ErrInvalid for malformed
	// input.
	Setup(ctx context.Context, in SetupInput) (Account, error)
	// RecordLogin notes a successful login at now and stores emailIndex (a
	// login found through the previous instance secret is re-indexed). It
	// returns ErrNotFound for an unknown login and ErrConflict when the index
	// belongs to another login.
	RecordLogin(ctx context.Context, id, emailIndex string) error
	// ChangePassword replaces the password credentials, deletes every session
	// of the login and creates session, in one transaction. ErrNotFound for
	// an unknown or pending login.
	ChangePassword(ctx context.Context, id string, c PasswordChange, session Session) error
	// ChangeEmail sets a new e-mail index and replaces the labels of the
	// login's grants on the given accounts (account id to label).
	// ErrConflict when another login has the index; ErrNotFound for an
	// unknown login.
	ChangeEmail(ctx context.Context, id, emailIndex string, labels map[string]string) error
	// ChangeRecovery replaces the recovery-wrapped login key and the proof
	// hash. ErrNotFound for an unknown or pending login.
	ChangeRecovery(ctx context.Context, id, recoveryWrappedLoginKey, recoveryProofHash string) error
	// ResetPassword consumes an unexpired reset token and replaces the
	// login's credentials, deletes its sessions and creates in.Session, in
	// one transaction. It returns the login and, without KeepGrants, the ids
	// of the accounts whose grants became reshare. ErrNotFound when the
	// token is unknown, used or expired.
	ResetPassword(ctx context.Context, in ResetInput) (Login, []string, error)
	// Join consumes an unexpired invite token: it sets the credentials of a
	// pending login, makes the invitation's pending grants active with the
	// given wrapped KEKs and creates the session, in one transaction.
	// ErrNotFound when the token is unknown, used or expired or belongs to
	// another login; ErrConflict when WrappedKEKs does not name exactly the
	// invitation's pending grants; ErrInvalid when credentials are missing
	// for a pending login or given for an existing one.
	Join(ctx context.Context, in JoinInput) (Login, error)
}
