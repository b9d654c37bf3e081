// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Leases live in the locks table (name, holder, expires_at).
const (
	// leaseTTL is how long a lease lives without renewal; holders renew it
	// every leaseTTL/4, so a crashed holder blocks others for at most this
	// long (plus the clock difference between instances).
	leaseTTL     = time.Minute
	leaseMigrate = "migrate"
	leaseExpire  = "expire"
)

// errLeaseLost cancels the work of a holder whose lease was taken over.
var errLeaseLost = errors.New("lease lost")

// acquireLease takes the lease name for ttl if it is free, expired, or
// already held by this store. Each statement is atomic on every dialect: the
// INSERT fails on the primary key when a row exists, and the conditional
// UPDATE re-checks its WHERE clause on the locked, latest row version, so of
// two instances racing for an expired lease exactly one sees a row affected.
func (s *Store) acquireLease(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	now := s.now()
	expires := now.Add(ttl)
	db := s.db.WithContext(ctx)
	err := db.Exec("INSERT INTO locks (name, holder, expires_at) VALUES (?, ?, ?)", name, s.holder, expires).Error
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		return false, err
	}
	res := db.Exec("UPDATE locks SET holder = ?, expires_at = ? WHERE name = ? AND (holder = ? OR expires_at < ?)",
		s.holder, expires, name, s.holder, now)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// renewLease extends a lease this store holds. It reports false when the
// lease was taken over (it had expired and another instance took it).
func (s *Store) renewLease(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	res := s.db.WithContext(ctx).Exec("UPDATE locks SET expires_at = ? WHERE name = ? AND holder = ?",
		s.now().Add(ttl), name, s.holder)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// releaseLease gives up a lease this store holds; it is a no-op otherwise.
func (s *Store) releaseLease(ctx context.Context, name string) error {
	return s.db.WithContext(ctx).Exec("DELETE FROM locks WHERE name = ? AND holder = ?", name, s.holder).Error
}

// withLease runs fn while holding the lease name, renewing it every
// s.leaseTTL/4 and releasing it afterwards. It reports false, without running
// fn, when another instance holds the lease. If the lease is lost while fn
// runs, fn's context is cancelled and the error says so.
func (s *Store) withLease(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	ttl := s.leaseTTL
	ok, err := s.acquireLease(ctx, name, ttl)
	if err != nil || !ok {
		return false, err
	}
	defer func() {
		// Release even when ctx is done, so others need not wait for expiry.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.releaseLease(rctx, name); err != nil {
			s.logger.WarnContext(ctx, "releasing lease failed", "lease", name, "error", err)
		}
	}()

	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ticker := time.NewTicker(ttl / 4)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-fctx.Done():
				return
			case <-ticker.C:
				ok, err := s.renewLease(fctx, name, ttl)
				if err != nil {
					s.logger.WarnContext(ctx, "renewing lease failed", "lease", name, "error", err)
					continue
				}
				if !ok {
					cancel(fmt.Errorf("%s: %w", name, errLeaseLost))
					return
				}
			}
		}
	}()
	err = fn(fctx)
	close(done)
	<-stopped
	if cause := context.Cause(fctx); errors.Is(cause, errLeaseLost) {
		return true, cause
	}
	return true, err
}
