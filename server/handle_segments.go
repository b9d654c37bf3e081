// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/keys/segment"
	"github.com/offen/offen/persistence"
)

// Sealed segments (keys/PROTOCOL.md §13): opaque blobs that any grant
// holder reads and writes, each the content of one closed day of the
// account. All routes run behind requireGrant (any role).

// segmentBodyLimit bounds PUT /api/accounts/{id}/segments/{period}.
const segmentBodyLimit = persistence.MaxSegmentBytes

// maxSegmentVersion bounds the format version an upload may name; readers
// know version 1, and later ones come one at a time.
const maxSegmentVersion = 1 << 16

// segmentInfo is a segment as listed and as answered to an upload.
type segmentInfo struct {
	Period  string `json:"period"`
	Version int    `json:"version"`
	Size    int    `json:"size"`
	Count   int    `json:"count"`
	Digest  string `json:"digest"`
}

func infoOf(s persistence.Segment) segmentInfo {
	return segmentInfo{Period: s.Period, Version: s.Version, Size: s.Size, Count: s.Count, Digest: s.Digest}
}

// firstOpenPeriod returns the first period that is not closed at now: its
// end lies less than the sync window in the past, so events may still
// arrive.
func firstOpenPeriod(now time.Time) string {
	return now.UTC().Add(-persistence.SyncWindow - time.Nanosecond).Format(time.DateOnly)
}

// checkPeriod parses the {period} of a request and refuses periods the
// server takes no segment for: not closed yet, or begun before the
// retention (expiry is deleting its events).
func (op *operators) checkPeriod(period string) error {
	start, _, err := segment.PeriodBounds(period)
	if err != nil {
		return badRequest("period must be a date YYYY-MM-DD")
	}
	now := op.now()
	if period >= firstOpenPeriod(now) {
		return badRequest("period is not closed yet")
	}
	if op.retention > 0 && start.Before(now.Add(-op.retention)) {
		return badRequest("period lies outside the retention")
	}
	return nil
}

// handleListSegments serves GET /api/accounts/{id}/segments.
func handleListSegments(op *operators) http.HandlerFunc {
	type response struct {
		Segments      []segmentInfo `json:"segments"`
		FirstPeriod   *string       `json:"firstPeriod"`
		OpenFrom      string        `json:"openFrom"`
		RetentionDays int           `json:"retentionDays"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := grantFrom(ctx).AccountID
		segs, err := op.store.ListSegments(ctx, id)
		if err != nil {
			respondError(w, r, err)
			return
		}
		res := response{Segments: make([]segmentInfo, len(segs)), OpenFrom: firstOpenPeriod(op.now()),
			RetentionDays: int(op.retention / (24 * time.Hour))}
		for i, s := range segs {
			res.Segments[i] = infoOf(s)
		}
		first, err := op.store.OldestEventPeriod(ctx, id)
		switch {
		case err == nil:
			res.FirstPeriod = &first
		case !errors.Is(err, persistence.ErrNotFound):
			respondError(w, r, err)
			return
		}
		respondJSON(w, r, http.StatusOK, res)
	}
}

// handleGetSegment serves GET /api/accounts/{id}/segments/{period}: the
// sealed string, cacheable for good. A replacement answers the same URL
// with new content, so a client that cached by URL asks with ?digest= of
// the listing: a segment with other coverage is then 404.
func handleGetSegment(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		period := chi.URLParam(r, "period")
		if _, _, err := segment.PeriodBounds(period); err != nil {
			respondError(w, r, badRequest("period must be a date YYYY-MM-DD"))
			return
		}
		s, err := op.store.FindSegment(r.Context(), grantFrom(r.Context()).AccountID, period)
		if err == nil {
			if d := r.URL.Query().Get("digest"); d != "" && d != s.Digest {
				err = errNotFound
			}
		}
		if err != nil {
			respondError(w, r, err)
			return
		}
		sum := sha256.Sum256([]byte(s.Sealed))
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(s.Sealed)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, s.Sealed)
		}
	}
}

// etagMatches reports whether an If-None-Match value names etag (weak
// comparison, as RFC 9110 §13.1.2 asks for).
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == etag {
			return true
		}
	}
	return false
}

// segmentUpload is the body of PUT /api/accounts/{id}/segments/{period}.
type segmentUpload struct {
	Version int    `json:"version"`
	Count   int    `json:"count"`
	Digest  string `json:"digest"`
	Segment string `json:"segment"`
}

func (u segmentUpload) valid() map[string]string {
	fields := map[string]string{}
	if u.Version < 1 || u.Version > maxSegmentVersion {
		fields["version"] = fmt.Sprintf("must be an integer from 1 to %d", maxSegmentVersion)
	}
	if u.Count < 0 {
		fields["count"] = "must be a non-negative integer"
	}
	if !isHex(u.Digest, 64) {
		fields["digest"] = "must be 64 lowercase hex characters"
	}
	if keys.CheckFormat(u.Segment, keys.LabelA1) != nil {
		fields["segment"] = "must be an a1 string"
	}
	return fields
}

func isHex(s string, n int) bool { return len(s) == n && validCookieHex(s) }

// handlePutSegment serves PUT /api/accounts/{id}/segments/{period}. The
// body is read under the route's own limit (segmentBodyLimit), not decode's.
func handlePutSegment(op *operators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		period := chi.URLParam(r, "period")
		if err := op.checkPeriod(period); err != nil {
			respondError(w, r, err)
			return
		}
		if !isJSONContentType(r.Header.Get("Content-Type")) {
			respondError(w, r, errUnsupportedMediaType)
			return
		}
		// Reading up to 64 MiB may take most of the read timeout, which
		// would leave the coverage check no time under the request
		// deadline.
		extendDeadlines(w, r)
		var body bytes.Buffer
		if n := r.ContentLength; n > 0 && n <= segmentBodyLimit {
			body.Grow(int(n) + bytes.MinRead)
		}
		if _, err := body.ReadFrom(r.Body); err != nil {
			respondError(w, r, decodeError(err))
			return
		}
		var u segmentUpload
		if err := decodeJSON(body.Bytes(), &u); err != nil {
			respondError(w, r, err)
			return
		}
		if fields := u.valid(); len(fields) > 0 {
			respondError(w, r, &validationError{fields: fields})
			return
		}
		s, _ := sessionFrom(ctx)
		stored, err := op.store.PutSegment(ctx, persistence.Segment{
			AccountID: grantFrom(ctx).AccountID, Period: period, Version: u.Version,
			Count: u.Count, Digest: u.Digest, Sealed: u.Segment, UploadedBy: s.login.ID,
		})
		var cov *persistence.CoverageError
		switch {
		case errors.As(err, &cov):
			err = &httpError{status: http.StatusConflict, message: "the segment does not cover exactly the live events of the period"}
		case errors.Is(err, persistence.ErrSegmentTooLarge):
			err = &httpError{status: http.StatusRequestEntityTooLarge, message: "segment too large for this instance's database"}
		}
		if err != nil {
			respondError(w, r, err)
			return
		}
		respondJSON(w, r, http.StatusCreated, infoOf(stored))
	}
}

// handlePeriodEvents serves GET /api/accounts/{id}/segments/{period}/events:
// one page of the period's raw events by event id, then the wrapped secrets
// they name, streamed.
func handlePeriodEvents(v *visitors) http.HandlerFunc {
	type tail struct {
		Next string `json:"next"`
		More bool   `json:"more"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		pq := persistence.PeriodQuery{After: q.Get("after")}
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > persistence.MaxFeedLimit {
				respondError(w, r, &validationError{fields: map[string]string{
					"limit": fmt.Sprintf("must be an integer from 1 to %d", persistence.MaxFeedLimit),
				}})
				return
			}
			pq.Limit = n
		}
		extendDeadlines(w, r)
		pw := newPageWriter(w, "events", "secrets")
		defer pw.release()
		page, err := v.store.PeriodEvents(r.Context(), grantFrom(r.Context()).AccountID, chi.URLParam(r, "period"), pq, persistence.FeedItems{
			Event:  pw.event,
			Secret: pw.secret,
		})
		if err == nil {
			err = pw.end(tail{Next: page.Next, More: page.More})
		}
		if err != nil {
			pw.fail(r, err)
		}
	}
}

// handleSecretsLookup answers GET /api/accounts/{id}/secrets?keys=: the
// account's wrapped secrets of at most persistence.MaxSecretLookup key ids.
func handleSecretsLookup(v *visitors, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list := q.Get("keys")
	bad := &validationError{fields: map[string]string{
		"keys": fmt.Sprintf("must list 1 to %d key ids, comma-separated, without since or limit", persistence.MaxSecretLookup),
	}}
	if list == "" || q.Has("since") || q.Has("limit") || strings.Count(list, ",") >= persistence.MaxSecretLookup {
		respondError(w, r, bad)
		return
	}
	ids := strings.Split(list, ",")
	for _, id := range ids {
		if !isHex(id, 32) {
			respondError(w, r, bad)
			return
		}
	}
	secrets, err := v.store.FindSecrets(r.Context(), grantFrom(r.Context()).AccountID, ids)
	if err != nil {
		respondError(w, r, err)
		return
	}
	type secret struct {
		KeyID         string `json:"keyId"`
		SecretID      string `json:"secretId"`
		WrappedSecret string `json:"wrappedSecret"`
	}
	res := struct {
		Secrets []secret `json:"secrets"`
	}{Secrets: make([]secret, len(secrets))}
	for i, s := range secrets {
		res.Secrets[i] = secret{KeyID: s.KeyID, SecretID: s.SecretID, WrappedSecret: s.WrappedSecret}
	}
	respondJSON(w, r, http.StatusOK, res)
}

// startQuery reads the ?start= of the account events feed: a time in ms
// since the epoch at which a run begins instead of a cursor.
func startQuery(r *http.Request, fq *persistence.FeedQuery) error {
	s := r.URL.Query().Get("start")
	if s == "" {
		return nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 || ms > 1<<47 || fq.Since != "" {
		return &validationError{fields: map[string]string{"start": "must be milliseconds since the epoch, without since"}}
	}
	fq.Start = time.UnixMilli(ms)
	return nil
}
