// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational_test

import (
	"sync"
	"testing"
	"time"

	"github.com/offen/offen/persistence/relational"
)

func TestULID(t *testing.T) {
	at := time.Date(2026, 5, 17, 8, 30, 15, 123_000_000, time.UTC)
	id := relational.NewULID(at)
	if len(id) != 26 {
		t.Fatalf("got length %d, want 26", len(id))
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || c == 'I' || c == 'L' || c == 'O' || c == 'U' {
			t.Fatalf("got character %q outside Crockford base32 in %s", c, id)
		}
	}
	if got, ok := relational.ULIDTime(id); !ok || !got.Equal(at) {
		t.Errorf("time: got %v %v, want %v", got, ok, at)
	}
	if id == relational.NewULID(at) {
		t.Error("two ULIDs of one millisecond are equal")
	}
	// Known value: 2^48-1 ms is the largest time, all of it 7ZZZZZZZZZ.
	if got := relational.ULIDLowerBound(time.UnixMilli(1<<48 - 1)); got != "7ZZZZZZZZZ0000000000000000" {
		t.Errorf("max time: got %s", got)
	}
	if got := relational.ULIDLowerBound(time.UnixMilli(0)); got != "00000000000000000000000000" {
		t.Errorf("epoch: got %s", got)
	}
	bound := relational.ULIDLowerBound(at)
	for _, tc := range []struct {
		at   time.Time
		less bool
	}{
		{at.Add(-time.Millisecond), true},
		{at.Add(-time.Hour), true},
		{at, false},
		{at.Add(999 * time.Microsecond), false},
		{at.Add(time.Millisecond), false},
	} {
		for range 50 {
			if got := relational.NewULID(tc.at) < bound; got != tc.less {
				t.Fatalf("ULID at %v < bound at %v: got %v, want %v", tc.at, at, got, tc.less)
			}
		}
	}
	if _, ok := relational.ULIDTime("short"); ok {
		t.Error("short id parsed")
	}
	if _, ok := relational.ULIDTime("U000000000" + "0000000000000000"); ok {
		t.Error("invalid character in the time part parsed")
	}
}

func TestSeqClock(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := relational.NewSeqClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	})
	first := clock.Next()
	if first != now.UnixMicro() {
		t.Fatalf("got %d, want the clock's microseconds %d", first, now.UnixMicro())
	}
	// A stalled and then backwards clock still yields increasing values.
	second := clock.Next()
	mu.Lock()
	now = now.Add(-time.Second)
	mu.Unlock()
	third := clock.Next()
	if !(first < second && second < third) {
		t.Fatalf("got %d, %d, %d; want strictly increasing", first, second, third)
	}

	var wg sync.WaitGroup
	values := make(chan int64, 8*1000)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				values <- clock.Next()
			}
		}()
	}
	wg.Wait()
	close(values)
	seen := map[int64]bool{}
	for v := range values {
		if seen[v] || v <= third {
			t.Fatalf("got duplicate or stale value %d", v)
		}
		seen[v] = true
	}
}
