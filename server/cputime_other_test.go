// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package server

import "time"

// processCPU is not measured here; CPU figures of benchmarks read zero.
func processCPU() time.Duration { return 0 }
