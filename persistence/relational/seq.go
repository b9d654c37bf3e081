// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"sync"
	"time"
)

// SeqClock hands out seq values (PROTOCOL.md §6): microseconds since the Unix
// epoch, strictly increasing for the clock's lifetime even when the wall
// clock stalls or steps back. A Store owns one; in production that is one per
// process.
type SeqClock struct {
	mu   sync.Mutex
	now  func() time.Time
	last int64
}

// NewSeqClock returns a clock reading now (time.Now when nil).
func NewSeqClock(now func() time.Time) *SeqClock {
	if now == nil {
		now = time.Now
	}
	return &SeqClock{now: now}
}

// Next returns a value greater than every value it returned before.
func (c *SeqClock) Next() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.now().UnixMicro()
	if v <= c.last {
		v = c.last + 1
	}
	c.last = v
	return v
}

// Seq returns the next seq value of this store. Take it inside the write
// transaction that stores it, as late as possible: the transaction must
// commit within 10 s of taking it (PROTOCOL.md §6).
func (s *Store) Seq() int64 {
	return s.seq.Next()
}
