#!/bin/sh
# SPDX-FileCopyrightText: 2026 Offen developers
# SPDX-License-Identifier: Apache-2.0

# Fuzzes every target of packages keys and keys/segment briefly (FUZZTIME each, default 5s).
# Without -fuzz the same targets already run their seeds under `go test`.
# Usage: keys/fuzz.sh   (from anywhere; FUZZTIME=30s keys/fuzz.sh for longer)
set -eu
cd "$(dirname "$0")"
fuzztime="${FUZZTIME:-5s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in . ./segment; do
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9]*' "$pkg"/*_test.go | sed 's/^func //')
	for t in $targets; do
		echo "fuzz $pkg $t ($fuzztime)"
		for attempt in 1 2; do
			if go test -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" -parallel 2 "$pkg" >"$log" 2>&1; then
				break
			fi
			# A crasher is saved in testdata/fuzz and makes the replay fail.
			go test -run "^${t}\$" "$pkg" || exit 1
			tail -n 5 "$log"
			# No crasher: the fuzzing engine itself gave up (a worker killed on a
			# starved machine); try once more before failing.
			[ "$attempt" = 1 ] || exit 1
			echo "fuzz $t: engine failed without a crasher, once more"
		done
	done
done
