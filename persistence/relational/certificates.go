// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/offen/offen/persistence"
)

// GetCertificate returns a cache entry; see persistence.Certificates.
func (s *Store) GetCertificate(ctx context.Context, name string) ([]byte, error) {
	var rec certificateRecord
	err := s.read(ctx, "get certificate", func(tx *gorm.DB) error {
		return tx.Where("name = ?", name).Take(&rec).Error
	})
	if err != nil {
		return nil, err
	}
	if rec.Data == nil {
		rec.Data = []byte{}
	}
	return rec.Data, nil
}

// PutCertificate stores or replaces a cache entry; see
// persistence.Certificates.
func (s *Store) PutCertificate(ctx context.Context, name string, data []byte) error {
	if name == "" || len(name) > 255 {
		return fmt.Errorf("relational: put certificate: name must have 1 to 255 bytes: %w", persistence.ErrInvalid)
	}
	if data == nil {
		data = []byte{}
	}
	return s.write(ctx, "put certificate", func(tx *gorm.DB) error {
		rec := certificateRecord{Name: name, Data: data, UpdatedAt: s.now()}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "name"}},
			DoUpdates: clause.AssignmentColumns([]string{"data", "updated_at"}),
		}).Create(&rec).Error
	})
}

// DeleteCertificate removes a cache entry; see persistence.Certificates.
func (s *Store) DeleteCertificate(ctx context.Context, name string) error {
	return s.write(ctx, "delete certificate", func(tx *gorm.DB) error {
		return tx.Where("name = ?", name).Delete(&certificateRecord{}).Error
	})
}
