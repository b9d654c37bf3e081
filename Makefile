# SPDX-FileCopyrightText: 2026 Offen developers
# SPDX-License-Identifier: Apache-2.0

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

# Front-end folders take part once they have a package.json.
FRONTENDS := $(patsubst %/package.json,%,$(wildcard script/package.json auditorium/package.json))
NODE_DEPS := $(FRONTENDS:%=%/node_modules/.package-lock.json)

# Seeded instances of the dashboard bench, reused the same UTC day (a 10,000,000-event
# account takes several GB and minutes to seed).
BENCH_DIR ?= /tmp/offen-bench

# Database DSNs for the tests (CI sets them; CI=true makes them mandatory).
ifdef TEST_POSTGRES_DSN
export TEST_POSTGRES_DSN
endif
ifdef TEST_MYSQL_DSN
export TEST_MYSQL_DSN
endif

.PHONY: build frontends test test-go test-js test-integration lint lint-go reuse notice check-notice docker bench demo fuzz

build: frontends
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/offen ./cmd/offen

frontends: $(NODE_DEPS)
	@for d in $(FRONTENDS); do (cd $$d && npm run build) || exit 1; done

%/node_modules/.package-lock.json: %/package-lock.json
	cd $* && npm ci --no-audit --no-fund

test: lint test-go test-js test-integration fuzz

test-go:
	@[ -n "$$TEST_POSTGRES_DSN" ] || echo "skipping PostgreSQL tests: TEST_POSTGRES_DSN is not set"
	@[ -n "$$TEST_MYSQL_DSN" ] || echo "skipping MySQL/MariaDB tests: TEST_MYSQL_DSN is not set"
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...
	CGO_ENABLED=1 $(GO) test -count=1 -run '^TestLoginFloodMemoryBounded$$' ./server/

# Browser tests of the real binary (integration/, build tag integration). The
# front-ends are built first: the binary embeds them; integration/ gets axe-core.
# The journeys run on SQLite and on every database whose TEST_*_DSN is set, one log
# line per journey and database. Without Chromium they skip (CI=true: fail).
test-integration: frontends integration/node_modules/.package-lock.json
	$(GO) vet -tags integration ./integration/
	@bash -o pipefail -c 'CGO_ENABLED=1 $(GO) test -tags integration -count=1 -parallel 4 -timeout 15m -v ./integration/... \
		| grep -v -E "^=== (RUN|PAUSE|CONT|NAME)"'

test-js: $(NODE_DEPS)
	@for d in $(FRONTENDS); do (cd $$d && npm test) || exit 1; done
	cd keys/js && node --test

# Brief fuzzing of every parser in keys (FUZZTIME per target, default 5s).
fuzz:
	keys/fuzz.sh

lint: lint-go check-notice reuse

# REUSE compliance: every file has SPDX tags or a REUSE.toml entry (CI installs reuse).
reuse:
	@if command -v reuse >/dev/null; then python3 .ci/reuse-lint.py; \
	elif [ "$$CI" = true ]; then echo "reuse is not installed"; exit 1; \
	else echo "skipping reuse lint: reuse is not installed (apt-get install reuse)"; fi

# NOTICE lists every Go module in bin/offen and every npm package in the bundles.
notice: $(NODE_DEPS)
	$(GO) run ./cmd/offen-notice

check-notice: $(NODE_DEPS)
	$(GO) run ./cmd/offen-notice -check

# The container image (Dockerfile: Node, then a static Go binary, then distroless).
docker:
	docker build -t offen --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg BUILD_DATE=$(DATE) .

lint-go:
	@out=$$(find . -name '*.go' -not -path '*/node_modules/*' -exec gofmt -l {} +); [ -z "$$out" ] || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...

bench: build
	CGO_ENABLED=1 $(GO) test -run '^$$' -bench . -benchmem ./...
	node keys/js/bench.mjs
	# event ingest through the real server, SQLite and PostgreSQL (integration/bench/ingest)
	$(GO) run ./integration/bench/ingest -bin bin/offen
	# the dashboard in headless Chromium (integration/bench/dashboard): the first load ever
	# (without segments) and a second operator's on a fresh profile (with the segment of every
	# closed day, then the 6-month range); seeded instances are kept in BENCH_DIR for reruns
	# the same day (the 10,000,000-event one takes a while to seed)
	$(GO) run ./integration/bench/dashboard -binary bin/offen -dir $(BENCH_DIR) -events 100000 -visitors 10000
	$(GO) run ./integration/bench/dashboard -binary bin/offen -dir $(BENCH_DIR) -events 1000000 -visitors 100000 -timeout 15m
	$(GO) run ./integration/bench/dashboard -binary bin/offen -dir $(BENCH_DIR) -events 10000000 -visitors 1000000 -cases with -timeout 15m

# A throwaway instance with generated data; DEMOFLAGS e.g. "--users 2000 --open".
demo: build
	bin/offen demo $(DEMOFLAGS)
