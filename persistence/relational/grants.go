// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

type grantRecord struct {
	LoginID          string    `gorm:"column:login_id;primaryKey"`
	AccountID        string    `gorm:"column:account_id;primaryKey"`
	Role             string    `gorm:"column:role"`
	WrappedKEK       *string   `gorm:"column:wrapped_kek"`
	InviteWrappedKEK *string   `gorm:"column:invite_wrapped_kek"`
	InvitationID     *string   `gorm:"column:invitation_id"`
	Label            *string   `gorm:"column:label"`
	CreatedBy        *string   `gorm:"column:created_by"`
	CreatedAt        time.Time `gorm:"column:created_at"`
	UpdatedAt        time.Time `gorm:"column:updated_at"`
}

func (grantRecord) TableName() string { return "grants" }

func (r grantRecord) toDomain() persistence.Grant {
	return persistence.Grant{
		LoginID:          r.LoginID,
		AccountID:        r.AccountID,
		Role:             persistence.Role(r.Role),
		WrappedKEK:       deref(r.WrappedKEK),
		InviteWrappedKEK: deref(r.InviteWrappedKEK),
		InvitationID:     deref(r.InvitationID),
		Label:            deref(r.Label),
		CreatedBy:        deref(r.CreatedBy),
		CreatedAt:        r.CreatedAt.UTC(),
		UpdatedAt:        r.UpdatedAt.UTC(),
	}
}

func validateGrant(g persistence.Grant) error {
	if !validUUID(g.LoginID) || !validUUID(g.AccountID) || !g.Role.Valid() ||
		(g.CreatedBy != "" && !validUUID(g.CreatedBy)) {
		return fmt.Errorf("grant: malformed ids or role: %w", persistence.ErrInvalid)
	}
	return nil
}

// createGrantTx inserts g inside tx.
func createGrantTx(tx *gorm.DB, now time.Time, g persistence.Grant) error {
	if err := validateGrant(g); err != nil {
		return err
	}
	return tx.Create(&grantRecord{
		LoginID:          g.LoginID,
		AccountID:        g.AccountID,
		Role:             string(g.Role),
		WrappedKEK:       nullable(g.WrappedKEK),
		InviteWrappedKEK: nullable(g.InviteWrappedKEK),
		InvitationID:     nullable(g.InvitationID),
		Label:            nullable(g.Label),
		CreatedBy:        nullable(g.CreatedBy),
		CreatedAt:        now,
		UpdatedAt:        now,
	}).Error
}

func grantsToDomain(recs []grantRecord) []persistence.Grant {
	out := make([]persistence.Grant, len(recs))
	for i, r := range recs {
		out[i] = r.toDomain()
	}
	return out
}

// ListLoginGrants returns a login's grants; see persistence.Grants.
func (s *Store) ListLoginGrants(ctx context.Context, loginID string) ([]persistence.Grant, error) {
	var grants []persistence.Grant
	err := s.read(ctx, "list login grants", func(tx *gorm.DB) error {
		var recs []grantRecord
		err := tx.Raw(`SELECT grants.* FROM grants JOIN accounts ON accounts.account_id = grants.account_id
			WHERE grants.login_id = ? ORDER BY accounts.created_at, accounts.account_id`, loginID).Scan(&recs).Error
		grants = grantsToDomain(recs)
		return err
	})
	return grants, err
}

// ListAccountGrants returns an account's grants; see persistence.Grants.
func (s *Store) ListAccountGrants(ctx context.Context, accountID string) ([]persistence.Grant, error) {
	var grants []persistence.Grant
	err := s.read(ctx, "list account grants", func(tx *gorm.DB) error {
		var recs []grantRecord
		err := tx.Where("account_id = ?", accountID).Order("created_at, login_id").Find(&recs).Error
		grants = grantsToDomain(recs)
		return err
	})
	return grants, err
}

// FindGrant returns one grant; see persistence.Grants.
func (s *Store) FindGrant(ctx context.Context, loginID, accountID string) (persistence.Grant, error) {
	var g persistence.Grant
	err := s.read(ctx, "find grant", func(tx *gorm.DB) error {
		var rec grantRecord
		if err := tx.Where("login_id = ? AND account_id = ?", loginID, accountID).Take(&rec).Error; err != nil {
			return err
		}
		g = rec.toDomain()
		return nil
	})
	return g, err
}

// CreateAccountWithGrant creates an account and its creator's admin grant;
// see persistence.Grants.
func (s *Store) CreateAccountWithGrant(ctx context.Context, a persistence.Account, g persistence.Grant) (persistence.Account, error) {
	var created persistence.Account
	err := s.write(ctx, "create account with grant", func(tx *gorm.DB) error {
		now := s.now()
		var err error
		created, err = createAccountTx(tx, now, a)
		if err != nil {
			return err
		}
		g.AccountID, g.Role = created.ID, persistence.RoleAdmin
		if g.WrappedKEK == "" {
			return fmt.Errorf("grant: wrapped kek is empty: %w", persistence.ErrInvalid)
		}
		return createGrantTx(tx, now, g)
	})
	return created, err
}

// lockAccountTx locks the row of an active account for the rest of tx (on
// SQLite the write transaction already excludes other writers) and returns
// ErrNotFound for an unknown or retired account.
func (s *Store) lockAccountTx(tx *gorm.DB, accountID string) error {
	var ids []string
	err := tx.Raw("SELECT account_id FROM accounts WHERE account_id = ? AND retired_at IS NULL"+s.forUpdate(), accountID).
		Scan(&ids).Error
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return persistence.ErrNotFound
	}
	return nil
}

// changeGrantTx applies change to login's grant on account under the
// account lock, refusing to leave the account without an active admin.
func (s *Store) changeGrantTx(tx *gorm.DB, accountID, loginID string, demotes bool, change func() error) error {
	if err := s.lockAccountTx(tx, accountID); err != nil {
		return err
	}
	var recs []grantRecord
	if err := tx.Raw("SELECT * FROM grants WHERE account_id = ?"+s.forUpdate(), accountID).Scan(&recs).Error; err != nil {
		return err
	}
	var target *persistence.Grant
	admins := 0
	for _, r := range recs {
		g := r.toDomain()
		if g.Role == persistence.RoleAdmin && g.State() == persistence.GrantActive {
			admins++
		}
		if g.LoginID == loginID {
			target = &g
		}
	}
	if target == nil {
		return persistence.ErrNotFound
	}
	if demotes && target.Role == persistence.RoleAdmin && target.State() == persistence.GrantActive && admins <= 1 {
		return persistence.ErrLastAdmin
	}
	return change()
}

// UpdateGrantRole sets a grant's role; see persistence.Grants.
func (s *Store) UpdateGrantRole(ctx context.Context, accountID, loginID string, role persistence.Role) error {
	if !role.Valid() {
		return fmt.Errorf("relational: update grant role: role %q: %w", role, persistence.ErrInvalid)
	}
	return s.write(ctx, "update grant role", func(tx *gorm.DB) error {
		return s.changeGrantTx(tx, accountID, loginID, role != persistence.RoleAdmin, func() error {
			return tx.Model(&grantRecord{}).Where("login_id = ? AND account_id = ?", loginID, accountID).
				Updates(map[string]any{"role": string(role), "updated_at": s.now()}).Error
		})
	})
}

// DeleteGrant revokes a grant; see persistence.Grants.
func (s *Store) DeleteGrant(ctx context.Context, accountID, loginID string) error {
	return s.write(ctx, "delete grant", func(tx *gorm.DB) error {
		return s.changeGrantTx(tx, accountID, loginID, true, func() error {
			return tx.Where("login_id = ? AND account_id = ?", loginID, accountID).Delete(&grantRecord{}).Error
		})
	})
}

// RetireAccount flags an account retired and deletes its grants; see
// persistence.Grants.
func (s *Store) RetireAccount(ctx context.Context, accountID string) error {
	defer s.forgetAccount(accountID)
	return s.write(ctx, "retire account", func(tx *gorm.DB) error {
		if err := s.lockAccountTx(tx, accountID); err != nil {
			return err
		}
		now := s.now()
		if err := updateActiveAccount(tx, accountID, map[string]any{"retired_at": now, "updated_at": now}); err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM segments WHERE account_id = ?", accountID).Error; err != nil {
			return err
		}
		return tx.Where("account_id = ?", accountID).Delete(&grantRecord{}).Error
	})
}

// CreateInvitation adds pending grants for an invitee; see
// persistence.Grants.
func (s *Store) CreateInvitation(ctx context.Context, in persistence.InvitationInput) (persistence.InvitationResult, error) {
	var res persistence.InvitationResult
	if !validHash(in.EmailIndex) || !validUUID(in.InvitedBy) || len(in.Grants) == 0 {
		return res, fmt.Errorf("relational: create invitation: %w", persistence.ErrInvalid)
	}
	err := s.write(ctx, "create invitation", func(tx *gorm.DB) error {
		now := s.now()
		res = persistence.InvitationResult{}
		l, err := findLoginTx(tx, "email_index", in.EmailIndex)
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			if !validUUID(in.NewLoginID) {
				return fmt.Errorf("new login id: %w", persistence.ErrInvalid)
			}
			rec := loginRecord{LoginID: in.NewLoginID, EmailIndex: in.EmailIndex, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&rec).Error; err != nil {
				return err
			}
			l = rec.toDomain()
		case err != nil:
			return err
		}
		res.LoginID, res.ExistingLogin = l.ID, !l.Pending()
		token := in.Token
		token.Kind, token.LoginID, token.CreatedBy = persistence.TokenInvite, l.ID, in.InvitedBy
		token.ID = ""
		for _, g := range in.Grants {
			if err := s.lockAccountTx(tx, g.AccountID); err != nil {
				return err
			}
			if g.InviteWrappedKEK == "" {
				return fmt.Errorf("grant: invite wrapped kek is empty: %w", persistence.ErrInvalid)
			}
			g.LoginID, g.CreatedBy, g.WrappedKEK = l.ID, in.InvitedBy, ""
			if err := validateGrant(g); err != nil {
				return err
			}
			var existing []grantRecord
			if err := tx.Where("login_id = ? AND account_id = ?", l.ID, g.AccountID).Find(&existing).Error; err != nil {
				return err
			}
			if len(existing) == 1 && existing[0].WrappedKEK != nil {
				continue // held actively
			}
			res.AccountIDs = append(res.AccountIDs, g.AccountID)
		}
		if len(res.AccountIDs) == 0 {
			return fmt.Errorf("the invitee holds every account: %w", persistence.ErrConflict)
		}
		stored, err := createTokenTx(tx, now, token)
		if err != nil {
			return err
		}
		for _, g := range in.Grants {
			if !slices.Contains(res.AccountIDs, g.AccountID) {
				continue
			}
			if err := tx.Where("login_id = ? AND account_id = ?", l.ID, g.AccountID).Delete(&grantRecord{}).Error; err != nil {
				return err
			}
			g.LoginID, g.CreatedBy, g.WrappedKEK, g.InvitationID = l.ID, in.InvitedBy, "", stored.ID
			if err := createGrantTx(tx, now, g); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}
