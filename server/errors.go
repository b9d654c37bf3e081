// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/offen/offen/persistence"
)

// httpError is an error with a status and a message safe to show to any
// client. err, when set, is the private cause, logged for 5xx statuses.
type httpError struct {
	status  int
	message string
	err     error
}

func (e *httpError) Error() string {
	if e.err != nil {
		return e.message + ": " + e.err.Error()
	}
	return e.message
}

func (e *httpError) Unwrap() error { return e.err }

// Errors that handlers and middleware return through respondError.
var (
	errBadRequest           = &httpError{status: http.StatusBadRequest, message: "bad request"}
	errUnauthorized         = &httpError{status: http.StatusUnauthorized, message: "unauthorized"}
	errForbidden            = &httpError{status: http.StatusForbidden, message: "forbidden"}
	errNotFound             = &httpError{status: http.StatusNotFound, message: "not found"}
	errMethodNotAllowed     = &httpError{status: http.StatusMethodNotAllowed, message: "method not allowed"}
	errUnsupportedMediaType = &httpError{status: http.StatusUnsupportedMediaType, message: "content type must be application/json (charset utf-8 or none)"}
	errUnknownHost          = &httpError{status: http.StatusMisdirectedRequest, message: "unknown host"}
	// errSlowBody: the body did not arrive within the read timeout.
	errSlowBody = &httpError{status: http.StatusRequestTimeout, message: "request body too slow"}
)

// badRequest returns a 400 error whose message is shown to the client; it
// must not echo secrets.
func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// unavailable returns a 503 error with cause as the private reason.
func unavailable(cause error) error {
	return &httpError{status: http.StatusServiceUnavailable, message: "service unavailable", err: cause}
}

// validationError is a 400 naming the problem of each field.
type validationError struct {
	fields map[string]string
}

func (e *validationError) Error() string { return fmt.Sprintf("invalid fields: %v", e.fields) }

// throttledError is a 429 telling the client when to retry.
type throttledError struct {
	retryAfter time.Duration
}

func (e *throttledError) Error() string {
	return "too many requests; retry after " + e.retryAfter.String()
}

// retryUnavailable is the Retry-After of a 503, in seconds: about how long
// a database restart or failover takes.
const retryUnavailable = "5"

// errRequestDeadline ends the context of a request that ran out of time
// (requestDeadline); it maps to 503.
var errRequestDeadline = fmt.Errorf("request deadline: %w: %w", persistence.ErrUnavailable, context.DeadlineExceeded)

// unavailableError reports whether err means the database (or the time it
// was given) failed rather than the request: the 503s of an outage.
func unavailableError(err error) bool {
	return errors.Is(err, persistence.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// statuses maps domain errors to statuses and client messages, first match
// wins. Errors matched nowhere are 500 with a generic message.
var statuses = []struct {
	err     error
	status  int
	message string
}{
	{persistence.ErrNotFound, http.StatusNotFound, "not found"},
	{persistence.ErrConflict, http.StatusConflict, "conflict"},
	{persistence.ErrInvalid, http.StatusBadRequest, "invalid request"},
	{persistence.ErrUnavailable, http.StatusServiceUnavailable, "service unavailable"},
	{persistence.ErrSchemaOutdated, http.StatusServiceUnavailable, "service unavailable"},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "service unavailable"},
	// The client went away; nobody reads this answer.
	{context.Canceled, http.StatusServiceUnavailable, "request canceled"},
}

// errorBody is the one shape of every error response.
type errorBody struct {
	Error  string            `json:"error"`
	Status int               `json:"status"`
	Fields map[string]string `json:"fields,omitempty"`
}

// respondError writes err as a JSON error response with the status that the
// error maps to. Statuses of 500 and above are logged once, by the request
// log, with the route and request id; their message stays generic.
func respondError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && context.Cause(r.Context()) == errRequestDeadline {
		// Drivers report the request deadline (requestDeadline) as a
		// cancellation; it is the database being too slow, not the client
		// leaving.
		err = fmt.Errorf("%w: %w", errRequestDeadline, err)
	}
	body := classify(err)
	var throttled *throttledError
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max(throttled.retryAfter.Seconds(), 1)))))
	case body.Status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryUnavailable)
	}
	if body.Status >= http.StatusInternalServerError {
		noteError(r.Context(), err)
	}
	respondJSON(w, r, body.Status, body)
}

// classify picks the status and client message for err.
func classify(err error) errorBody {
	var (
		he        *httpError
		invalid   *validationError
		throttled *throttledError
		tooLarge  *http.MaxBytesError
	)
	switch {
	case errors.As(err, &he):
		return errorBody{Error: he.message, Status: he.status}
	case errors.As(err, &invalid):
		return errorBody{Error: "invalid request", Status: http.StatusBadRequest, Fields: invalid.fields}
	case errors.As(err, &throttled):
		return errorBody{Error: "too many requests", Status: http.StatusTooManyRequests}
	case errors.As(err, &tooLarge):
		return errorBody{Error: "request body too large", Status: http.StatusRequestEntityTooLarge}
	}
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return errorBody{Error: s.message, Status: s.status}
		}
	}
	return errorBody{Error: "internal server error", Status: http.StatusInternalServerError}
}
