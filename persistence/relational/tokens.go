// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

type tokenRecord struct {
	TokenID   string    `gorm:"column:token_id;primaryKey"`
	TokenHash string    `gorm:"column:token_hash"`
	Kind      string    `gorm:"column:kind"`
	LoginID   *string   `gorm:"column:login_id"`
	CreatedBy *string   `gorm:"column:created_by"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (tokenRecord) TableName() string { return "one_time_tokens" }

func (r tokenRecord) toDomain() persistence.Token {
	return persistence.Token{
		ID:        r.TokenID,
		Hash:      r.TokenHash,
		Kind:      persistence.TokenKind(r.Kind),
		LoginID:   deref(r.LoginID),
		CreatedBy: deref(r.CreatedBy),
		ExpiresAt: r.ExpiresAt.UTC(),
		CreatedAt: r.CreatedAt.UTC(),
	}
}

// nullable maps "" to NULL.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// newTokenID returns a random token id (32 hex characters).
func newTokenID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createTokenTx validates t and inserts it with a new id; it returns the
// token as stored.
func createTokenTx(tx *gorm.DB, now time.Time, t persistence.Token) (persistence.Token, error) {
	if !validHash(t.Hash) || (t.Kind != persistence.TokenReset && t.Kind != persistence.TokenInvite) ||
		!validUUID(t.LoginID) || (t.CreatedBy != "" && !validUUID(t.CreatedBy)) || t.ExpiresAt.IsZero() {
		return t, fmt.Errorf("token: malformed hash, kind, login or expiry: %w", persistence.ErrInvalid)
	}
	t.ID = newTokenID()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	t.CreatedAt, t.ExpiresAt = utc(t.CreatedAt), utc(t.ExpiresAt)
	err := tx.Create(&tokenRecord{
		TokenID:   t.ID,
		TokenHash: t.Hash,
		Kind:      string(t.Kind),
		LoginID:   nullable(t.LoginID),
		CreatedBy: nullable(t.CreatedBy),
		ExpiresAt: t.ExpiresAt,
		CreatedAt: t.CreatedAt,
	}).Error
	return t, err
}

// findTokenTx returns the unexpired token of kind with hash, or ErrNotFound.
func findTokenTx(tx *gorm.DB, now time.Time, kind persistence.TokenKind, hash string) (persistence.Token, error) {
	var rec tokenRecord
	err := tx.Where("token_hash = ? AND kind = ? AND expires_at > ?", hash, string(kind), now).Take(&rec).Error
	if err != nil {
		return persistence.Token{}, err
	}
	return rec.toDomain(), nil
}

// consumeTokenTx finds and deletes an unexpired token of kind with hash. Of
// two transactions consuming one token, only one sees it deleted; the other
// gets ErrNotFound.
func consumeTokenTx(tx *gorm.DB, now time.Time, kind persistence.TokenKind, hash string) (persistence.Token, error) {
	t, err := findTokenTx(tx, now, kind, hash)
	if err != nil {
		return t, err
	}
	res := tx.Where("token_id = ?", t.ID).Delete(&tokenRecord{})
	if res.Error != nil {
		return t, res.Error
	}
	if res.RowsAffected != 1 {
		return t, persistence.ErrNotFound
	}
	return t, nil
}

// FindToken returns an unexpired one-time token; see persistence.Tokens.
func (s *Store) FindToken(ctx context.Context, kind persistence.TokenKind, hash string) (persistence.Token, error) {
	var t persistence.Token
	err := s.read(ctx, "find token", func(tx *gorm.DB) error {
		var err error
		t, err = findTokenTx(tx, s.now(), kind, hash)
		return err
	})
	return t, err
}

// ReplaceResetToken stores a reset token in place of the login's older
// ones; see persistence.Tokens.
func (s *Store) ReplaceResetToken(ctx context.Context, t persistence.Token) error {
	return s.write(ctx, "replace reset token", func(tx *gorm.DB) error {
		if t.Kind != persistence.TokenReset {
			return fmt.Errorf("kind %q: %w", t.Kind, persistence.ErrInvalid)
		}
		if err := tx.Where("login_id = ?", t.LoginID).Take(&loginRecord{}).Error; err != nil {
			return err
		}
		if err := tx.Where("login_id = ? AND kind = ?", t.LoginID, string(persistence.TokenReset)).Delete(&tokenRecord{}).Error; err != nil {
			return err
		}
		_, err := createTokenTx(tx, s.now(), t)
		return err
	})
}
