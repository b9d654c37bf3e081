// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build unix

package server

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time the test process used so far;
// benchmarks report it per operation, a figure other load on the machine
// disturbs less than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
