// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

type secretRecord struct {
	KeyID         string    `gorm:"column:key_id;primaryKey"`
	AccountID     string    `gorm:"column:account_id"`
	SecretID      string    `gorm:"column:secret_id"`
	WrappedSecret string    `gorm:"column:wrapped_secret"`
	Seq           int64     `gorm:"column:seq"`
	CreatedAt     time.Time `gorm:"column:created_at"`
}

func (secretRecord) TableName() string { return "secrets" }

func (r secretRecord) toDomain() persistence.Secret {
	return persistence.Secret{
		KeyID:         r.KeyID,
		AccountID:     r.AccountID,
		SecretID:      r.SecretID,
		WrappedSecret: r.WrappedSecret,
		Seq:           r.Seq,
		CreatedAt:     r.CreatedAt.UTC(),
	}
}

// validHex reports whether s is n lowercase hex characters (key ids: 32,
// secret ids: 64).
func validHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func secretProblems(in persistence.Secret) error {
	var problems []string
	if !validHex(in.KeyID, 32) {
		problems = append(problems, "key id is not 32 lowercase hex characters")
	}
	if !validUUID(in.AccountID) {
		problems = append(problems, "account id is not a lowercase UUIDv4")
	}
	if !validHex(in.SecretID, 64) {
		problems = append(problems, "secret id is not 64 lowercase hex characters")
	}
	if in.WrappedSecret == "" || len(in.WrappedSecret) > 1024 {
		problems = append(problems, "wrapped secret must have 1 to 1024 bytes")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(problems, "; "), persistence.ErrInvalid)
	}
	return nil
}

// CreateSecret stores a user secret idempotently; see persistence.Secrets.
func (s *Store) CreateSecret(ctx context.Context, in persistence.Secret) (persistence.Secret, error) {
	if err := secretProblems(in); err != nil {
		return in, fmt.Errorf("relational: create secret: %w", err)
	}
	var out persistence.Secret
	err := s.writeSeq(ctx, "create secret", func(tx *gorm.DB) error {
		if err := s.lockActiveAccounts(tx, []string{in.AccountID}, nil); err != nil {
			return err
		}
		var existing []secretRecord
		if err := tx.Where("key_id = ?", in.KeyID).Limit(1).Find(&existing).Error; err != nil {
			return err
		}
		if len(existing) == 1 {
			e := existing[0]
			if e.AccountID == in.AccountID && e.SecretID == in.SecretID && e.WrappedSecret == in.WrappedSecret {
				out = e.toDomain()
				return nil
			}
			return fmt.Errorf("key id taken: %w", persistence.ErrConflict)
		}
		rec := secretRecord{
			KeyID:         in.KeyID,
			AccountID:     in.AccountID,
			SecretID:      in.SecretID,
			WrappedSecret: in.WrappedSecret,
			CreatedAt:     s.now(),
			Seq:           s.Seq(),
		}
		if err := tx.Create(&rec).Error; err != nil {
			return err
		}
		out = rec.toDomain()
		return nil
	})
	return out, err
}

// FindSecret returns the secret with a key id; see persistence.Secrets.
func (s *Store) FindSecret(ctx context.Context, keyID string) (persistence.Secret, error) {
	var out persistence.Secret
	err := s.read(ctx, "find secret", func(tx *gorm.DB) error {
		var rec secretRecord
		if err := tx.Where("key_id = ?", keyID).Take(&rec).Error; err != nil {
			return err
		}
		out = rec.toDomain()
		return nil
	})
	return out, err
}

// ListUserSalts returns every account's user salt; see persistence.Secrets.
func (s *Store) ListUserSalts(ctx context.Context) ([]persistence.UserSalt, error) {
	out := []persistence.UserSalt{}
	err := s.read(ctx, "list user salts", func(tx *gorm.DB) error {
		rows, err := tx.Raw("SELECT account_id, user_salt, retired_at FROM accounts ORDER BY account_id").Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u persistence.UserSalt
			var retired *time.Time
			if err := rows.Scan(&u.AccountID, &u.UserSalt, &retired); err != nil {
				return err
			}
			u.Retired = retired != nil
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}

// accountCache keeps recently read accounts for FindAccountCached.
type accountCache struct {
	mu      sync.Mutex
	entries map[string]accountCacheEntry
	// gen counts invalidations, so a read that raced with one is not cached.
	gen uint64
}

type accountCacheEntry struct {
	account persistence.Account
	expires time.Time
}

// maxAccountCacheEntries bounds the cache; when full it is emptied.
const maxAccountCacheEntries = 10_000

// forgetAccount drops id from the account cache. Every method of this store
// that changes an account row calls it after its transaction committed.
func (s *Store) forgetAccount(id string) {
	c := &s.accounts
	c.mu.Lock()
	delete(c.entries, id)
	c.gen++
	c.mu.Unlock()
}

// FindAccountCached returns an account through the in-process cache; see
// persistence.Secrets.
func (s *Store) FindAccountCached(ctx context.Context, id string) (persistence.Account, error) {
	c := &s.accounts
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.account, nil
	}
	a, err := s.FindAccount(ctx, id)
	if ok && (errors.Is(err, persistence.ErrUnavailable) || ctx.Err() != nil) {
		// The last account read, however old, keeps the vault page served
		// through an outage; the writes that follow fail on their own.
		return e.account, nil
	}
	if err != nil {
		return a, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.entries == nil || len(c.entries) >= maxAccountCacheEntries {
			c.entries = make(map[string]accountCacheEntry)
		}
		c.entries[id] = accountCacheEntry{account: a, expires: now.Add(persistence.AccountCacheTTL)}
	}
	c.mu.Unlock()
	return a, nil
}

// WarmAccountCache reads the active accounts (up to the cache's size) into
// the account cache as entries already past their TTL: reads still go to
// the database, but during an outage (see FindAccountCached) the vault of
// an account not loaded since the process started is served too. serve
// calls it once at start; a failure leaves the cache as it was.
func (s *Store) WarmAccountCache(ctx context.Context) error {
	c := &s.accounts
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	var recs []accountRecord
	err := s.read(ctx, "warm account cache", func(tx *gorm.DB) error {
		return tx.Where("retired_at IS NULL").Order("account_id").Limit(maxAccountCacheEntries / 2).Find(&recs).Error
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil
	}
	if c.entries == nil {
		c.entries = make(map[string]accountCacheEntry, len(recs))
	}
	for _, rec := range recs {
		a, err := rec.toDomain()
		if err != nil {
			return translate("warm account cache", err)
		}
		if _, ok := c.entries[a.ID]; !ok {
			c.entries[a.ID] = accountCacheEntry{account: a}
		}
	}
	return nil
}
