// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package persistence_test

import (
	"slices"
	"testing"

	"github.com/offen/offen/persistence"
)

func TestSchemaStatus(t *testing.T) {
	for _, tc := range []struct {
		name             string
		applied, known   []string
		pending, unknown []string
		current          bool
	}{
		{"empty database", nil, []string{"1", "2"}, []string{"1", "2"}, nil, false},
		{"partly applied", []string{"1"}, []string{"1", "2"}, []string{"2"}, nil, false},
		{"current", []string{"1", "2"}, []string{"1", "2"}, nil, nil, true},
		{"newer database", []string{"1", "2", "3"}, []string{"1", "2"}, nil, []string{"3"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := persistence.SchemaStatus{Applied: tc.applied, Known: tc.known}
			if got := s.Pending(); !slices.Equal(got, tc.pending) {
				t.Errorf("pending: got %v, want %v", got, tc.pending)
			}
			if got := s.Unknown(); !slices.Equal(got, tc.unknown) {
				t.Errorf("unknown: got %v, want %v", got, tc.unknown)
			}
			if got := s.Current(); got != tc.current {
				t.Errorf("current: got %v, want %v", got, tc.current)
			}
		})
	}
}
