// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"encoding/json"
	"time"

	"github.com/offen/offen/persistence"
)

// Records mirror today's tables for GORM and convert to and from domain
// types. Migrations never use them (they keep frozen definitions).

type accountRecord struct {
	AccountID           string     `gorm:"column:account_id;primaryKey"`
	Name                string     `gorm:"column:name"`
	PublicKey           string     `gorm:"column:public_key"`
	EncryptedPrivateKey string     `gorm:"column:encrypted_private_key"`
	UserSalt            []byte     `gorm:"column:user_salt"`
	AllowedOrigins      string     `gorm:"column:allowed_origins"`
	BannerCSS           string     `gorm:"column:banner_css"`
	Goals               *string    `gorm:"column:goals"`
	RetiredAt           *time.Time `gorm:"column:retired_at"`
	CreatedAt           time.Time  `gorm:"column:created_at"`
	UpdatedAt           time.Time  `gorm:"column:updated_at"`
}

func (accountRecord) TableName() string { return "accounts" }

func (r accountRecord) toDomain() (persistence.Account, error) {
	a := persistence.Account{
		ID:                  r.AccountID,
		Name:                r.Name,
		PublicKey:           r.PublicKey,
		EncryptedPrivateKey: r.EncryptedPrivateKey,
		UserSalt:            r.UserSalt,
		BannerCSS:           r.BannerCSS,
		CreatedAt:           r.CreatedAt.UTC(),
		UpdatedAt:           r.UpdatedAt.UTC(),
	}
	if r.Goals != nil {
		a.Goals = *r.Goals
	}
	if r.RetiredAt != nil {
		a.Retired = true
		a.RetiredAt = r.RetiredAt.UTC()
	}
	origins, err := decodeOrigins(r.AllowedOrigins)
	if err != nil {
		return a, err
	}
	a.AllowedOrigins = origins
	return a, nil
}

func encodeOrigins(origins []string) (string, error) {
	if origins == nil {
		origins = []string{}
	}
	b, err := json.Marshal(origins)
	return string(b), err
}

func decodeOrigins(s string) ([]string, error) {
	origins := []string{}
	if s == "" {
		return origins, nil
	}
	err := json.Unmarshal([]byte(s), &origins)
	return origins, err
}

type certificateRecord struct {
	Name      string    `gorm:"column:name;primaryKey"`
	Data      []byte    `gorm:"column:data"`
	UpdatedAt time.Time `gorm:"column:updated_at"`
}

func (certificateRecord) TableName() string { return "certificates" }

// tombstoneRecord is a row of tombstones. Kinds: "event", "secret", "before".
type tombstoneRecord struct {
	TombstoneID string  `gorm:"column:tombstone_id;primaryKey"`
	AccountID   string  `gorm:"column:account_id"`
	SecretID    *string `gorm:"column:secret_id"`
	Kind        string  `gorm:"column:kind"`
	Target      string  `gorm:"column:target"`
	Seq         int64   `gorm:"column:seq"`
}

func (tombstoneRecord) TableName() string { return "tombstones" }

// Tombstone kinds (PROTOCOL.md §5).
const (
	tombstoneEvent  = "event"
	tombstoneSecret = "secret"
	tombstoneBefore = "before"
)

func (r tombstoneRecord) toDomain() persistence.Tombstone {
	t := persistence.Tombstone{
		TombstoneID: r.TombstoneID,
		AccountID:   r.AccountID,
		Kind:        r.Kind,
		Target:      r.Target,
		Seq:         r.Seq,
	}
	if r.SecretID != nil {
		t.SecretID = *r.SecretID
	}
	return t
}

// eventRecord is a row of events.
type eventRecord struct {
	EventID   string `gorm:"column:event_id;primaryKey"`
	AccountID string `gorm:"column:account_id"`
	SecretID  string `gorm:"column:secret_id"`
	KeyID     string `gorm:"column:key_id"`
	Payload   string `gorm:"column:payload"`
	Seq       int64  `gorm:"column:seq"`
}

func (eventRecord) TableName() string { return "events" }
