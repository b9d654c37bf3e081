// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence

import (
	"context"
	"fmt"
	"time"
)

// Role is what a grant allows on its account.
type Role string

// Roles of PROTOCOL.md §3.3.
const (
	RoleViewer Role = "viewer"
	RoleAdmin  Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleViewer || r == RoleAdmin }

// GrantState follows from which wrapping a grant holds.
type GrantState string

// Grant states of PROTOCOL.md §5.
const (
	GrantActive  GrantState = "active"  // the KEK wrapped under the login key
	GrantPending GrantState = "pending" // only the invite wrapping
	GrantReshare GrantState = "reshare" // none: an admin must share again
)

// ErrLastAdmin refuses to revoke or demote an account's last active admin
// grant. It wraps ErrConflict.
var ErrLastAdmin = fmt.Errorf("last active admin grant: %w", ErrConflict)

// Grant gives a login access to an account.
type Grant struct {
	LoginID   string
	AccountID string
	Role      Role
	// WrappedKEK is the account's KEK under the holder's login key ("a1.…").
	WrappedKEK string
	// InviteWrappedKEK is the KEK under an invite wrap key while pending.
	InviteWrappedKEK string
	// InvitationID is the token id of the invitation of a pending grant.
	InvitationID string
	// Label is the holder's e-mail address encrypted under the KEK ("a1.…").
	Label     string
	CreatedBy string // login id of the granting login, empty for setup
	CreatedAt time.Time
	UpdatedAt time.Time
}

// State returns the grant's state.
func (g Grant) State() GrantState {
	switch {
	case g.WrappedKEK != "":
		return GrantActive
	case g.InviteWrappedKEK != "":
		return GrantPending
	default:
		return GrantReshare
	}
}

// InvitationInput is an invitation of one login to several accounts.
type InvitationInput struct {
	// EmailIndex identifies the invitee; a pending login with the id
	// NewLoginID is created for an unknown index.
	EmailIndex string
	NewLoginID string
	// Token is the invitation's one-time token (kind invite); the store sets
	// its id, login and creation time.
	Token Token
	// Grants hold AccountID, Role, InviteWrappedKEK and Label.
	Grants []Grant
	// InvitedBy is the inviting login.
	InvitedBy string
}

// InvitationResult says what an invitation did.
type InvitationResult struct {
	LoginID string
	// ExistingLogin is true when the invitee already had credentials.
	ExistingLogin bool
	// AccountIDs lists the accounts that got a pending grant.
	AccountIDs []string
}

// Grants stores who holds which account in which role.
type Grants interface {
	// ListLoginGrants returns the login's grants (every state), ordered by
	// account creation time.
	ListLoginGrants(ctx context.Context, loginID string) ([]Grant, error)
	// ListAccountGrants returns the account's grants, ordered by creation.
	ListAccountGrants(ctx context.Context, accountID string) ([]Grant, error)
	// FindGrant returns the grant of login on account, or ErrNotFound.
	FindGrant(ctx context.Context, loginID, accountID string) (Grant, error)
	// CreateAccountWithGrant creates the account and an active admin grant
	// for g.LoginID in one transaction; errors as for CreateAccount.
	CreateAccountWithGrant(ctx context.Context, a Account, g Grant) (Account, error)
	// UpdateGrantRole sets the role of login's grant on the account. It locks
	// the account row first, so concurrent demotions serialize, and returns
	// ErrLastAdmin when the change would leave no active admin grant, and
	// ErrNotFound when there is no such grant or the account is retired.
	UpdateGrantRole(ctx context.Context, accountID, loginID string, role Role) error
	// DeleteGrant revokes login's grant on the account, with the same lock
	// and errors as UpdateGrantRole.
	DeleteGrant(ctx context.Context, accountID, loginID string) error
	// RetireAccount flags the account retired and deletes its grants in one
	// transaction; ErrNotFound for an unknown or already retired account.
	// Its events and secrets are deleted afterwards, in batches, by
	// Events.DeleteAccountData.
	RetireAccount(ctx context.Context, accountID string) error
	// CreateInvitation finds or creates the invitee's login, adds pending
	// grants for the accounts the invitee does not hold actively (replacing
	// older pending or reshare grants there) and stores the token, in one
	// transaction. ErrConflict when no grant would be added; ErrNotFound for
	// an unknown or retired account.
	CreateInvitation(ctx context.Context, in InvitationInput) (InvitationResult, error)
}
