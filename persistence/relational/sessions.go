// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

type sessionRecord struct {
	TokenHash  string    `gorm:"column:token_hash;primaryKey"`
	LoginID    string    `gorm:"column:login_id"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	LastSeenAt time.Time `gorm:"column:last_seen_at"`
	ExpiresAt  time.Time `gorm:"column:expires_at"`
}

func (sessionRecord) TableName() string { return "sessions" }

func (r sessionRecord) toDomain() persistence.Session {
	return persistence.Session{
		TokenHash:  r.TokenHash,
		LoginID:    r.LoginID,
		CreatedAt:  r.CreatedAt.UTC(),
		LastSeenAt: r.LastSeenAt.UTC(),
		ExpiresAt:  r.ExpiresAt.UTC(),
	}
}

var hexHashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// validHash reports whether s is a lowercase hex SHA-256 or HMAC-SHA256.
func validHash(s string) bool { return hexHashPattern.MatchString(s) }

// createSessionTx inserts a session inside tx.
func createSessionTx(tx *gorm.DB, s persistence.Session) error {
	if !validHash(s.TokenHash) || !validUUID(s.LoginID) {
		return fmt.Errorf("session: malformed token hash or login id: %w", persistence.ErrInvalid)
	}
	return tx.Create(&sessionRecord{
		TokenHash:  s.TokenHash,
		LoginID:    s.LoginID,
		CreatedAt:  utc(s.CreatedAt),
		LastSeenAt: utc(s.LastSeenAt),
		ExpiresAt:  utc(s.ExpiresAt),
	}).Error
}

// CreateSession stores a session; see persistence.Sessions.
func (s *Store) CreateSession(ctx context.Context, sess persistence.Session) error {
	return s.write(ctx, "create session", func(tx *gorm.DB) error {
		return createSessionTx(tx, sess)
	})
}

// FindSession returns a session by token hash; see persistence.Sessions.
func (s *Store) FindSession(ctx context.Context, tokenHash string) (persistence.Session, error) {
	var sess persistence.Session
	err := s.read(ctx, "find session", func(tx *gorm.DB) error {
		var rec sessionRecord
		if err := tx.Where("token_hash = ?", tokenHash).Take(&rec).Error; err != nil {
			return err
		}
		sess = rec.toDomain()
		return nil
	})
	return sess, err
}

// TouchSession moves a session's last use and expiry; see
// persistence.Sessions.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, lastSeen, expires time.Time) error {
	return s.write(ctx, "touch session", func(tx *gorm.DB) error {
		res := tx.Model(&sessionRecord{}).Where("token_hash = ?", tokenHash).
			Updates(map[string]any{"last_seen_at": utc(lastSeen), "expires_at": utc(expires)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return persistence.ErrNotFound
		}
		return nil
	})
}

// DeleteSession removes a session; see persistence.Sessions.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	return s.write(ctx, "delete session", func(tx *gorm.DB) error {
		return tx.Where("token_hash = ?", tokenHash).Delete(&sessionRecord{}).Error
	})
}

// DeleteLoginSessions removes every session of a login; see
// persistence.Sessions.
func (s *Store) DeleteLoginSessions(ctx context.Context, loginID string) error {
	return s.write(ctx, "delete login sessions", func(tx *gorm.DB) error {
		return tx.Where("login_id = ?", loginID).Delete(&sessionRecord{}).Error
	})
}
