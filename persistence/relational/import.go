// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/offen/offen/persistence"
)

// ImportSecrets stores new secrets of one account in one transaction: the
// rows CreateSecret writes, for seeding (integration/bench) where a
// transaction per visitor would make a million visitors take a quarter of an
// hour. Unlike CreateSecret it is not idempotent: a key id that exists fails
// the whole batch.
func (s *Store) ImportSecrets(ctx context.Context, in []persistence.Secret) error {
	if len(in) == 0 {
		return nil
	}
	recs := make([]secretRecord, len(in))
	for i, sec := range in {
		if err := secretProblems(sec); err != nil {
			return fmt.Errorf("relational: import secrets: %w", err)
		}
		if sec.AccountID != in[0].AccountID {
			return fmt.Errorf("relational: import secrets: secrets of several accounts: %w", persistence.ErrInvalid)
		}
		recs[i] = secretRecord{KeyID: sec.KeyID, AccountID: sec.AccountID, SecretID: sec.SecretID, WrappedSecret: sec.WrappedSecret}
	}
	return s.writeSeq(ctx, "import secrets", func(tx *gorm.DB) error {
		if err := s.lockActiveAccounts(tx, []string{in[0].AccountID}, nil); err != nil {
			return err
		}
		now := s.now()
		for i := range recs {
			recs[i].CreatedAt, recs[i].Seq = now, s.Seq()
		}
		return tx.CreateInBatches(recs, 500).Error
	})
}
