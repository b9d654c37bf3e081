# syntax=docker/dockerfile:1
# SPDX-FileCopyrightText: 2026 Offen developers
# SPDX-License-Identifier: Apache-2.0

# Three stages: Node bundles the two front-ends into their dist/ folders, Go compiles one
# static binary that embeds them (CGO for SQLite, linked statically), and a distroless
# image runs it as a non-root user with the data volume at /var/opt/offen.
#
#   docker build -t offen --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg COMMIT="$(git rev-parse HEAD)" --build-arg BUILD_DATE="$(date -u +%FT%TZ)" .
#   docker run -d -p 443:443 -p 80:80 -v offen-data:/var/opt/offen --env-file offen.env offen

ARG GO_VERSION=1.26.8
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS frontends
WORKDIR /src
# Dependencies first, so that a source change does not reinstall them.
COPY script/package.json script/package-lock.json script/
COPY auditorium/package.json auditorium/package-lock.json auditorium/
RUN cd script && npm ci --no-audit --no-fund \
 && cd ../auditorium && npm ci --no-audit --no-fund
# The front-ends import keys/js/crypto.js, the auditorium also script/src/storage.js,
# by relative path; locales reach them at run time from the server.
COPY keys/js/ keys/js/
COPY script/ script/
COPY auditorium/ auditorium/
RUN cd script && node build.mjs \
 && cd ../auditorium && node build.mjs

FROM golang:${GO_VERSION}-bookworm AS binary
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=frontends /src/script/dist/ script/dist/
COPY --from=frontends /src/auditorium/dist/ auditorium/dist/
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown
# osusergo and netgo keep glibc's NSS out of the static binary; SQLite without
# loadable extensions needs no dlopen.
RUN CGO_ENABLED=1 go build -trimpath \
      -tags osusergo,netgo,sqlite_omit_load_extension \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${BUILD_DATE} -linkmode external -extldflags '-static'" \
      -o /out/offen ./cmd/offen \
 && /out/offen version \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=binary /out/offen /usr/local/bin/offen
COPY --from=binary --chown=65532:65532 /out/data/ /var/opt/offen/
COPY NOTICE /usr/share/doc/offen/NOTICE
COPY LICENSES/ /usr/share/doc/offen/LICENSES/
USER nonroot:nonroot
WORKDIR /var/opt/offen
# The default database is /var/opt/offen/offen.db; an offen.env placed in the volume is
# read too, as it is the working directory.
VOLUME /var/opt/offen
# 3000: plain HTTP or TLS from files; 80 and 443: autocert (Docker lets a non-root user
# bind them inside the container's network namespace).
EXPOSE 80 443 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/offen", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/offen"]
CMD ["serve"]
