// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// defaultBodyLimit bounds request bodies unless a route group sets a smaller
// limit (PROTOCOL.md §7.1).
const defaultBodyLimit = 1 << 20

// validator is implemented by request types that check their own values.
// Valid returns a problem per field name, empty when all is well.
type validator interface {
	Valid(ctx context.Context) map[string]string
}

// decode reads one JSON value of type T from the request body. It requires
// Content-Type application/json (415), rejects bodies over the default limit
// (413; route groups may set smaller ones), unknown fields and trailing data
// (400), and runs T's Valid method when it has one (400 with the fields).
func decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return v, errUnsupportedMediaType
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, defaultBodyLimit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return v, decodeError(err)
		}
		return v, badRequest("unexpected data after the JSON value")
	}
	var val validator
	switch x := any(&v).(type) {
	case validator:
		val = x
	default:
		val, _ = any(v).(validator)
	}
	if val != nil {
		if fields := val.Valid(r.Context()); len(fields) > 0 {
			return v, &validationError{fields: fields}
		}
	}
	return v, nil
}

// decodeError turns a JSON decoding failure into a client error.
func decodeError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	if errors.Is(err, io.EOF) {
		return badRequest("empty body")
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("malformed JSON at offset %d", syntax.Offset)
	case errors.As(err, &typ):
		return badRequest("field %q must be %s", typ.Field, typ.Type.String())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON")
	}
	return badRequest("%s", cleanJSONError(err))
}

// cleanJSONError drops the package prefix from encoding/json messages such as
// `json: unknown field "x"`.
func cleanJSONError(err error) string {
	msg := err.Error()
	if after, ok := bytes.CutPrefix([]byte(msg), []byte("json: ")); ok {
		return string(after)
	}
	return msg
}

// respondJSON writes v as JSON with status. A value that cannot be encoded is
// a 500.
func respondJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		noteError(r.Context(), fmt.Errorf("encode response: %w", err))
		b = []byte(`{"error":"internal server error","status":500}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
