// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offen/offen/keys"
)

// Every argon2id run holds 19 MiB for tens of milliseconds, and logins from
// many addresses pass the per-address throttles side by side, so without a
// bound their memory grows with the number of addresses. The pool runs a
// fixed number at once; the others wait in a bounded queue for a bounded
// time and are then refused with 429 (keys/PROTOCOL.md §14). Known and
// unknown addresses take the same way through it (P4).

const (
	// maxDefaultArgonWorkers caps the default pool. A worker costs about
	// 40 MB at peak, its 19 MiB and as much garbage of earlier runs awaiting
	// the collector (measured on 2 cores: 200 concurrent logins grew the
	// process by 111 MB with 2 workers, 187 MB with 4, 338 MB with 8); two
	// already check tens of logins per second (one run takes about 50 ms).
	maxDefaultArgonWorkers = 2
	// argonQueuePerWorker is how many runs may wait per worker.
	argonQueuePerWorker = 16
	// argonQueueWait is the longest a run waits for a worker.
	argonQueueWait = 3 * time.Second
)

// DefaultArgonWorkers is the pool size used when Options.Argon2Workers is
// zero: one per core, at most two.
func DefaultArgonWorkers() int {
	return min(runtime.GOMAXPROCS(0), maxDefaultArgonWorkers)
}

// argonPool admits argon2id runs. Waiting runs form two queues: browsers
// holding a device token for the login go first, so that a flood from
// strangers delays the owner by one run at most.
type argonPool struct {
	mu       sync.Mutex
	free     int
	queues   [2][]chan struct{} // trusted, others
	maxQueue int
	wait     time.Duration
	// runs counts the runs started, for tests.
	runs atomic.Int64
}

func newArgonPool(workers int, wait time.Duration) *argonPool {
	if workers <= 0 {
		workers = DefaultArgonWorkers()
	}
	return &argonPool{free: workers, maxQueue: workers * argonQueuePerWorker, wait: wait}
}

// run calls fn once a worker is free. It returns a *throttledError when the
// queue is full or the wait ran out, or the context's error; fn has not run
// then.
func (p *argonPool) run(ctx context.Context, trusted bool, fn func()) error {
	if err := p.acquire(ctx, trusted); err != nil {
		return err
	}
	defer p.release()
	p.runs.Add(1)
	fn()
	return nil
}

func (p *argonPool) acquire(ctx context.Context, trusted bool) error {
	lane := 1
	if trusted {
		lane = 0
	}
	p.mu.Lock()
	if p.free > 0 {
		p.free--
		p.mu.Unlock()
		return nil
	}
	if len(p.queues[lane]) >= p.maxQueue {
		p.mu.Unlock()
		return throttled(p.wait)
	}
	ready := make(chan struct{}, 1)
	p.queues[lane] = append(p.queues[lane], ready)
	p.mu.Unlock()

	timer := time.NewTimer(p.wait)
	defer timer.Stop()
	var err error
	select {
	case <-ready:
		return nil
	case <-timer.C:
		err = throttled(p.wait)
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.Index(p.queues[lane], ready)
	if i < 0 {
		// release handed this run a worker as it gave up: use it.
		return nil
	}
	p.queues[lane] = slices.Delete(p.queues[lane], i, i+1)
	return err
}

// release hands the worker to the first waiting run, trusted ones first.
func (p *argonPool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for lane := range p.queues {
		if q := p.queues[lane]; len(q) > 0 {
			q[0] <- struct{}{}
			p.queues[lane] = slices.Delete(q, 0, 1)
			return
		}
	}
	p.free++
}

// verifyAuthKey checks authKey against an argon2id1 hash in the pool. An
// error means that no key was checked: the pool refused, or the stored hash
// is malformed.
func (p *argonPool) verifyAuthKey(ctx context.Context, trusted bool, hash string, authKey []byte) (bool, error) {
	var ok bool
	var verr error
	if err := p.run(ctx, trusted, func() { ok, verr = keys.VerifyAuthKey(hash, authKey) }); err != nil {
		return false, err
	}
	if verr != nil {
		return false, fmt.Errorf("verify auth key: %w", verr)
	}
	return ok, nil
}

// hashAuthKey hashes a base64url auth key from a request in the pool.
func (p *argonPool) hashAuthKey(ctx context.Context, trusted bool, encoded string) (string, error) {
	authKey, err := keys.DecodeBase64Len(encoded, keys.KeySize)
	if err != nil {
		return "", badRequest("malformed auth key")
	}
	var hash string
	var herr error
	if err := p.run(ctx, trusted, func() { hash, herr = keys.HashAuthKey(authKey) }); err != nil {
		return "", err
	}
	return hash, herr
}
