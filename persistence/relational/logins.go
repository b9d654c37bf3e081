// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

type loginRecord struct {
	LoginID                 string     `gorm:"column:login_id;primaryKey"`
	EmailIndex              string     `gorm:"column:email_index"`
	FromSetup               bool       `gorm:"column:from_setup"`
	KDF                     *string    `gorm:"column:kdf"`
	KDFSalt                 []byte     `gorm:"column:kdf_salt"`
	AuthHash                *string    `gorm:"column:auth_hash"`
	WrappedLoginKey         *string    `gorm:"column:wrapped_login_key"`
	RecoveryWrappedLoginKey *string    `gorm:"column:recovery_wrapped_login_key"`
	RecoveryProofHash       *string    `gorm:"column:recovery_proof_hash"`
	CreatedAt               time.Time  `gorm:"column:created_at"`
	UpdatedAt               time.Time  `gorm:"column:updated_at"`
	LastLoginAt             *time.Time `gorm:"column:last_login_at"`
}

func (loginRecord) TableName() string { return "logins" }

func (r loginRecord) toDomain() persistence.Login {
	l := persistence.Login{
		ID:         r.LoginID,
		EmailIndex: r.EmailIndex,
		FromSetup:  r.FromSetup,
		Credentials: persistence.Credentials{
			KDF:                     deref(r.KDF),
			KDFSalt:                 r.KDFSalt,
			AuthHash:                deref(r.AuthHash),
			WrappedLoginKey:         deref(r.WrappedLoginKey),
			RecoveryWrappedLoginKey: deref(r.RecoveryWrappedLoginKey),
			RecoveryProofHash:       deref(r.RecoveryProofHash),
		},
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.LastLoginAt != nil {
		l.LastLoginAt = r.LastLoginAt.UTC()
	}
	return l
}

// credentialColumns are the column values of complete credentials.
func credentialColumns(c persistence.Credentials) (map[string]any, error) {
	if c.KDF == "" || len(c.KDFSalt) == 0 || len(c.KDFSalt) > 64 || c.AuthHash == "" || c.WrappedLoginKey == "" ||
		c.RecoveryWrappedLoginKey == "" || !validHash(c.RecoveryProofHash) {
		return nil, fmt.Errorf("credentials incomplete or malformed: %w", persistence.ErrInvalid)
	}
	return map[string]any{
		"kdf":                        c.KDF,
		"kdf_salt":                   c.KDFSalt,
		"auth_hash":                  c.AuthHash,
		"wrapped_login_key":          c.WrappedLoginKey,
		"recovery_wrapped_login_key": c.RecoveryWrappedLoginKey,
		"recovery_proof_hash":        c.RecoveryProofHash,
	}, nil
}

// forUpdate is the row-locking suffix of a SELECT on dialects that have
// one; SQLite serializes writers instead (BEGIN IMMEDIATE).
func (s *Store) forUpdate() string {
	if s.dialect == DialectSQLite {
		return ""
	}
	return " FOR UPDATE"
}

// HasLogins reports whether any login exists; see persistence.Logins.
func (s *Store) HasLogins(ctx context.Context) (bool, error) {
	var found bool
	err := s.read(ctx, "has logins", func(tx *gorm.DB) error {
		var ids []string
		if err := tx.Raw("SELECT login_id FROM logins LIMIT 1").Scan(&ids).Error; err != nil {
			return err
		}
		found = len(ids) > 0
		return nil
	})
	return found, err
}

// FindLogin returns a login by id; see persistence.Logins.
func (s *Store) FindLogin(ctx context.Context, id string) (persistence.Login, error) {
	var l persistence.Login
	err := s.read(ctx, "find login", func(tx *gorm.DB) error {
		var err error
		l, err = findLoginTx(tx, "login_id", id)
		return err
	})
	return l, err
}

// FindLoginByEmailIndex returns a login by e-mail index; see
// persistence.Logins.
func (s *Store) FindLoginByEmailIndex(ctx context.Context, emailIndex string) (persistence.Login, error) {
	var l persistence.Login
	err := s.read(ctx, "find login by email index", func(tx *gorm.DB) error {
		var err error
		l, err = findLoginTx(tx, "email_index", emailIndex)
		return err
	})
	return l, err
}

func findLoginTx(tx *gorm.DB, column, value string) (persistence.Login, error) {
	var rec loginRecord
	if err := tx.Where(column+" = ?", value).Take(&rec).Error; err != nil {
		return persistence.Login{}, err
	}
	return rec.toDomain(), nil
}

// Setup creates the first account, login and admin grant; see
// persistence.Logins.
func (s *Store) Setup(ctx context.Context, in persistence.SetupInput) (persistence.Account, error) {
	var account persistence.Account
	err := s.write(ctx, "setup", func(tx *gorm.DB) error {
		now := s.now()
		if !validUUID(in.Login.ID) || !validHash(in.Login.EmailIndex) {
			return fmt.Errorf("malformed login id or e-mail index: %w", persistence.ErrInvalid)
		}
		creds, err := credentialColumns(in.Login.Credentials)
		if err != nil {
			return err
		}
		if !in.Force {
			// Serialize concurrent setups on server databases: both lock the
			// first migration's row, and the second then sees the first's
			// login (a locking read sees the latest committed rows).
			if s.dialect != DialectSQLite {
				var ids []string
				if err := tx.Raw("SELECT id FROM migrations ORDER BY id LIMIT 1" + s.forUpdate()).Scan(&ids).Error; err != nil {
					return err
				}
			}
			var ids []string
			if err := tx.Raw("SELECT login_id FROM logins LIMIT 1" + s.forUpdate()).Scan(&ids).Error; err != nil {
				return err
			}
			if len(ids) > 0 {
				return fmt.Errorf("a login exists: %w", persistence.ErrConflict)
			}
		}
		account, err = createAccountTx(tx, now, in.Account)
		if err != nil {
			return err
		}
		rec := loginRecord{
			LoginID:    in.Login.ID,
			EmailIndex: in.Login.EmailIndex,
			FromSetup:  true,
			CreatedAt:  now,
			UpdatedAt:  now,
		}
		if err := tx.Create(&rec).Error; err != nil {
			return err
		}
		if err := tx.Model(&loginRecord{}).Where("login_id = ?", rec.LoginID).Updates(creds).Error; err != nil {
			return err
		}
		g := in.Grant
		g.LoginID, g.AccountID, g.Role = in.Login.ID, account.ID, persistence.RoleAdmin
		if err := createGrantTx(tx, now, g); err != nil {
			return err
		}
		if in.Session != nil {
			return createSessionTx(tx, *in.Session)
		}
		return nil
	})
	return account, err
}

// RecordLogin notes a successful login; see persistence.Logins.
func (s *Store) RecordLogin(ctx context.Context, id, emailIndex string) error {
	if !validHash(emailIndex) {
		return fmt.Errorf("relational: record login: e-mail index: %w", persistence.ErrInvalid)
	}
	return s.write(ctx, "record login", func(tx *gorm.DB) error {
		now := s.now()
		return updateLogin(tx, id, false, map[string]any{"last_login_at": now, "email_index": emailIndex})
	})
}

// updateLogin sets columns of a login (with credentials when
// needCredentials) or returns ErrNotFound.
func updateLogin(tx *gorm.DB, id string, needCredentials bool, values map[string]any) error {
	q := tx.Model(&loginRecord{}).Where("login_id = ?", id)
	if needCredentials {
		q = q.Where("auth_hash IS NOT NULL")
	}
	res := q.Updates(values)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return persistence.ErrNotFound
	}
	return nil
}

// ChangePassword replaces password credentials and sessions; see
// persistence.Logins.
func (s *Store) ChangePassword(ctx context.Context, id string, c persistence.PasswordChange, session persistence.Session) error {
	if c.KDF == "" || len(c.KDFSalt) == 0 || c.AuthHash == "" || c.WrappedLoginKey == "" || session.LoginID != id {
		return fmt.Errorf("relational: change password: %w", persistence.ErrInvalid)
	}
	return s.write(ctx, "change password", func(tx *gorm.DB) error {
		err := updateLogin(tx, id, true, map[string]any{
			"kdf": c.KDF, "kdf_salt": c.KDFSalt, "auth_hash": c.AuthHash,
			"wrapped_login_key": c.WrappedLoginKey, "updated_at": s.now(),
		})
		if err != nil {
			return err
		}
		if err := tx.Where("login_id = ?", id).Delete(&sessionRecord{}).Error; err != nil {
			return err
		}
		return createSessionTx(tx, session)
	})
}

// ChangeEmail moves a login to a new e-mail index; see persistence.Logins.
func (s *Store) ChangeEmail(ctx context.Context, id, emailIndex string, labels map[string]string) error {
	if !validHash(emailIndex) {
		return fmt.Errorf("relational: change email: e-mail index: %w", persistence.ErrInvalid)
	}
	return s.write(ctx, "change email", func(tx *gorm.DB) error {
		now := s.now()
		if err := updateLogin(tx, id, false, map[string]any{"email_index": emailIndex, "updated_at": now}); err != nil {
			return err
		}
		for _, accountID := range slices.Sorted(maps.Keys(labels)) {
			err := tx.Model(&grantRecord{}).Where("login_id = ? AND account_id = ?", id, accountID).
				Updates(map[string]any{"label": labels[accountID], "updated_at": now}).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// ChangeRecovery replaces the recovery wrapping and proof hash; see
// persistence.Logins.
func (s *Store) ChangeRecovery(ctx context.Context, id, recoveryWrappedLoginKey, recoveryProofHash string) error {
	if recoveryWrappedLoginKey == "" || !validHash(recoveryProofHash) {
		return fmt.Errorf("relational: change recovery: %w", persistence.ErrInvalid)
	}
	return s.write(ctx, "change recovery", func(tx *gorm.DB) error {
		return updateLogin(tx, id, true, map[string]any{
			"recovery_wrapped_login_key": recoveryWrappedLoginKey,
			"recovery_proof_hash":        recoveryProofHash,
			"updated_at":                 s.now(),
		})
	})
}

// ResetPassword consumes a reset token and replaces credentials; see
// persistence.Logins.
func (s *Store) ResetPassword(ctx context.Context, in persistence.ResetInput) (persistence.Login, []string, error) {
	var (
		login   persistence.Login
		reshare []string
	)
	creds, err := credentialColumns(in.Credentials)
	if err != nil {
		return login, nil, fmt.Errorf("relational: reset password: %w", err)
	}
	err = s.write(ctx, "reset password", func(tx *gorm.DB) error {
		now := s.now()
		t, err := consumeTokenTx(tx, now, persistence.TokenReset, in.TokenHash)
		if err != nil {
			return err
		}
		if in.Session.LoginID != t.LoginID {
			return fmt.Errorf("session for another login: %w", persistence.ErrInvalid)
		}
		creds["updated_at"] = now
		if err := updateLogin(tx, t.LoginID, true, creds); err != nil {
			return err
		}
		if !in.KeepGrants {
			var ids []string
			err := tx.Raw("SELECT account_id FROM grants WHERE login_id = ? AND wrapped_kek IS NOT NULL ORDER BY account_id",
				t.LoginID).Scan(&ids).Error
			if err != nil {
				return err
			}
			reshare = ids
			err = tx.Model(&grantRecord{}).Where("login_id = ? AND wrapped_kek IS NOT NULL", t.LoginID).
				Updates(map[string]any{"wrapped_kek": nil, "updated_at": now}).Error
			if err != nil {
				return err
			}
		}
		if err := tx.Where("login_id = ? AND kind = ?", t.LoginID, string(persistence.TokenReset)).Delete(&tokenRecord{}).Error; err != nil {
			return err
		}
		if err := tx.Where("login_id = ?", t.LoginID).Delete(&sessionRecord{}).Error; err != nil {
			return err
		}
		if err := createSessionTx(tx, in.Session); err != nil {
			return err
		}
		login, err = findLoginTx(tx, "login_id", t.LoginID)
		return err
	})
	return login, reshare, err
}

// Join consumes an invite token and activates its grants; see
// persistence.Logins.
func (s *Store) Join(ctx context.Context, in persistence.JoinInput) (persistence.Login, error) {
	var login persistence.Login
	err := s.write(ctx, "join", func(tx *gorm.DB) error {
		now := s.now()
		t, err := consumeTokenTx(tx, now, persistence.TokenInvite, in.TokenHash)
		if err != nil {
			return err
		}
		if t.LoginID != in.LoginID || in.Session.LoginID != t.LoginID {
			return persistence.ErrNotFound
		}
		var rec loginRecord
		if err := tx.Raw("SELECT * FROM logins WHERE login_id = ?"+s.forUpdate(), t.LoginID).Scan(&rec).Error; err != nil {
			return err
		}
		if rec.LoginID == "" {
			return persistence.ErrNotFound
		}
		pending := rec.AuthHash == nil
		switch {
		case pending && in.Credentials == nil:
			return fmt.Errorf("credentials required for a new login: %w", persistence.ErrInvalid)
		case !pending && in.Credentials != nil:
			return fmt.Errorf("credentials given for an existing login: %w", persistence.ErrInvalid)
		case pending:
			creds, err := credentialColumns(*in.Credentials)
			if err != nil {
				return err
			}
			creds["updated_at"] = now
			if err := updateLogin(tx, t.LoginID, false, creds); err != nil {
				return err
			}
		}
		var ids []string
		err = tx.Raw(`SELECT grants.account_id FROM grants JOIN accounts ON accounts.account_id = grants.account_id
			WHERE grants.login_id = ? AND grants.invitation_id = ? AND grants.wrapped_kek IS NULL
			AND grants.invite_wrapped_kek IS NOT NULL AND accounts.retired_at IS NULL ORDER BY grants.account_id`+s.forUpdate(),
			t.LoginID, t.ID).Scan(&ids).Error
		if err != nil {
			return err
		}
		if !slices.Equal(ids, slices.Sorted(maps.Keys(in.WrappedKEKs))) {
			return fmt.Errorf("the invitation's grants changed: %w", persistence.ErrConflict)
		}
		for _, id := range ids {
			if in.WrappedKEKs[id] == "" {
				return fmt.Errorf("empty wrapped kek: %w", persistence.ErrInvalid)
			}
			err := tx.Model(&grantRecord{}).Where("login_id = ? AND account_id = ?", t.LoginID, id).Updates(map[string]any{
				"wrapped_kek": in.WrappedKEKs[id], "invite_wrapped_kek": nil, "invitation_id": nil, "updated_at": now,
			}).Error
			if err != nil {
				return err
			}
		}
		if err := createSessionTx(tx, in.Session); err != nil {
			return err
		}
		login, err = findLoginTx(tx, "login_id", t.LoginID)
		return err
	})
	return login, err
}
