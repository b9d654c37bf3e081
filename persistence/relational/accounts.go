// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// validUUID reports whether s is a lowercase UUIDv4 (account and login ids).
func validUUID(s string) bool { return uuidPattern.MatchString(s) }

// CreateAccount stores a new account; see persistence.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a persistence.Account) (persistence.Account, error) {
	var created persistence.Account
	err := s.write(ctx, "create account", func(tx *gorm.DB) error {
		var err error
		created, err = createAccountTx(tx, s.now(), a)
		return err
	})
	return created, err
}

// createAccountTx validates a and inserts it inside tx, for callers that
// create an account together with other rows (setup: account, login and
// grant in one transaction). It fills in the user salt when empty and sets
// CreatedAt and UpdatedAt to now. It returns ErrInvalid for bad input and a
// gorm duplicate-key error when the id is taken (translated by the caller's
// s.write into ErrConflict).
func createAccountTx(tx *gorm.DB, now time.Time, a persistence.Account) (persistence.Account, error) {
	if err := validateAccount(a); err != nil {
		return a, err
	}
	if len(a.UserSalt) == 0 {
		a.UserSalt = make([]byte, persistence.UserSaltLength)
		_, _ = rand.Read(a.UserSalt)
	}
	origins, err := encodeOrigins(a.AllowedOrigins)
	if err != nil {
		return a, fmt.Errorf("allowed origins: %w: %w", persistence.ErrInvalid, err)
	}
	if a.AllowedOrigins == nil {
		a.AllowedOrigins = []string{}
	}
	a.CreatedAt, a.UpdatedAt = now, now
	rec := accountRecord{
		AccountID:           a.ID,
		Name:                a.Name,
		PublicKey:           a.PublicKey,
		EncryptedPrivateKey: a.EncryptedPrivateKey,
		UserSalt:            a.UserSalt,
		AllowedOrigins:      origins,
		BannerCSS:           a.BannerCSS,
		CreatedAt:           now,
		UpdatedAt:           now,
	}
	if a.Retired {
		t := utc(a.RetiredAt)
		if a.RetiredAt.IsZero() {
			t = now
		}
		rec.RetiredAt = &t
		a.RetiredAt = t
	}
	// A new account has no goals yet; leaving the column out also keeps this
	// working on a schema before 0004 (the migration tests).
	if err := tx.Omit("goals").Create(&rec).Error; err != nil {
		return a, err
	}
	return a, nil
}

func validateAccount(a persistence.Account) error {
	var problems []string
	if !validUUID(a.ID) {
		problems = append(problems, "id is not a lowercase UUIDv4")
	}
	if n := utf8.RuneCountInString(a.Name); strings.TrimSpace(a.Name) == "" || n > persistence.MaxAccountNameLength || !utf8.ValidString(a.Name) {
		problems = append(problems, fmt.Sprintf("name must have 1 to %d characters", persistence.MaxAccountNameLength))
	}
	if a.PublicKey == "" {
		problems = append(problems, "public key is empty")
	}
	if a.EncryptedPrivateKey == "" {
		problems = append(problems, "encrypted private key is empty")
	}
	if len(a.UserSalt) != 0 && len(a.UserSalt) != persistence.UserSaltLength {
		problems = append(problems, fmt.Sprintf("user salt must have %d bytes", persistence.UserSaltLength))
	}
	if len(a.BannerCSS) > persistence.MaxBannerCSSBytes {
		problems = append(problems, fmt.Sprintf("banner css exceeds %d bytes", persistence.MaxBannerCSSBytes))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(problems, "; "), persistence.ErrInvalid)
	}
	return nil
}

// FindAccount returns an account, retired or not; see persistence.Accounts.
func (s *Store) FindAccount(ctx context.Context, id string) (persistence.Account, error) {
	var a persistence.Account
	err := s.read(ctx, "find account", func(tx *gorm.DB) error {
		var rec accountRecord
		if err := tx.Where("account_id = ?", id).Take(&rec).Error; err != nil {
			return err
		}
		var err error
		a, err = rec.toDomain()
		return err
	})
	return a, err
}

// ListAccounts returns the existing accounts among ids; see
// persistence.Accounts.
func (s *Store) ListAccounts(ctx context.Context, ids []string) ([]persistence.Account, error) {
	accounts := []persistence.Account{}
	if len(ids) == 0 {
		return accounts, nil
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	err := s.read(ctx, "list accounts", func(tx *gorm.DB) error {
		var recs []accountRecord
		for chunk := range slices.Chunk(ids, 500) {
			var part []accountRecord
			if err := tx.Where("account_id IN ?", chunk).Find(&part).Error; err != nil {
				return err
			}
			recs = append(recs, part...)
		}
		for _, rec := range recs {
			a, err := rec.toDomain()
			if err != nil {
				return err
			}
			accounts = append(accounts, a)
		}
		return nil
	})
	slices.SortFunc(accounts, func(a, b persistence.Account) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return accounts, err
}

// UpdateAllowedOrigins replaces an account's allowed origins; see
// persistence.Accounts.
func (s *Store) UpdateAllowedOrigins(ctx context.Context, id string, origins []string) error {
	encoded, err := encodeOrigins(origins)
	if err != nil {
		return fmt.Errorf("relational: update allowed origins: %w: %w", persistence.ErrInvalid, err)
	}
	defer s.forgetAccount(id)
	return s.write(ctx, "update allowed origins", func(tx *gorm.DB) error {
		return updateActiveAccount(tx, id, map[string]any{"allowed_origins": encoded, "updated_at": s.now()})
	})
}

// UpdateBannerCSS replaces an account's banner CSS; see persistence.Accounts.
func (s *Store) UpdateBannerCSS(ctx context.Context, id string, css string) error {
	if len(css) > persistence.MaxBannerCSSBytes {
		return fmt.Errorf("relational: update banner css: exceeds %d bytes: %w", persistence.MaxBannerCSSBytes, persistence.ErrInvalid)
	}
	defer s.forgetAccount(id)
	return s.write(ctx, "update banner css", func(tx *gorm.DB) error {
		return updateActiveAccount(tx, id, map[string]any{"banner_css": css, "updated_at": s.now()})
	})
}

// UpdateGoals replaces an account's sealed goals and funnels; see
// persistence.Accounts.
func (s *Store) UpdateGoals(ctx context.Context, id string, sealed string) error {
	if len(sealed) > persistence.MaxGoalsBytes {
		return fmt.Errorf("relational: update goals: exceeds %d bytes: %w", persistence.MaxGoalsBytes, persistence.ErrInvalid)
	}
	var value any = sealed
	if sealed == "" {
		value = nil
	}
	return s.write(ctx, "update goals", func(tx *gorm.DB) error {
		return updateActiveAccount(tx, id, map[string]any{"goals": value, "updated_at": s.now()})
	})
}

// updateActiveAccount sets columns of a non-retired account or returns
// ErrNotFound.
func updateActiveAccount(tx *gorm.DB, id string, values map[string]any) error {
	res := tx.Model(&accountRecord{}).Where("account_id = ? AND retired_at IS NULL", id).Updates(values)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return persistence.ErrNotFound
	}
	return nil
}
