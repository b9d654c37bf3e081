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
	"net"
	"net/http"
	"strings"
	"sync"
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
//
// The body is read whole (within the limit) into a pooled buffer. When *T
// has a fast path (fastDecoder) that accepts the body, encoding/json is not
// involved; anything the fast path does not take goes through
// encoding/json, which gives the same result it always did.
func decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		return v, errUnsupportedMediaType
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(buf)
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, defaultBodyLimit)); err != nil {
		return v, decodeError(err)
	}
	body := buf.Bytes()
	if fast, ok := any(&v).(fastDecoder); !ok || !fast.decodeJSONFast(body) {
		v = *new(T)
		if err := decodeJSON(body, &v); err != nil {
			return v, err
		}
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

// decodeJSON decodes body, one JSON value, into v, rejecting unknown fields
// and trailing data.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err)
		}
		return badRequest("unexpected data after the JSON value")
	}
	return nil
}

// fastDecoder is implemented by request types of hot routes that parse
// their usual body shape without encoding/json. decodeJSONFast returns
// false, leaving the value to be reset and decoded again by encoding/json,
// for anything it does not handle; when it returns true the value must be
// exactly what encoding/json (with unknown fields disallowed) would give.
type fastDecoder interface {
	decodeJSONFast(body []byte) bool
}

// bodyBuffers holds request body buffers; buffers that grew beyond
// maxPooledBody are dropped rather than kept.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 64 << 10

func putBodyBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBody {
		return
	}
	b.Reset()
	bodyBuffers.Put(b)
}

// isJSONContentType reports whether a Content-Type header value names
// application/json, with no parameter but charset=utf-8: a body in another
// charset would be misread.
func isJSONContentType(v string) bool {
	// The value browsers and the vault send, without parsing.
	if v == "application/json" {
		return true
	}
	mediaType, params, err := mime.ParseMediaType(v)
	if err != nil || mediaType != "application/json" {
		return false
	}
	for k, val := range params {
		if k != "charset" || !strings.EqualFold(val, "utf-8") {
			return false
		}
	}
	return true
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
	if ne, ok := errors.AsType[net.Error](err); ok {
		if ne.Timeout() {
			return errSlowBody
		}
		// Its message names the connection's addresses.
		return badRequest("the body could not be read")
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
	var b []byte
	if pre, ok := v.(encodedJSON); ok {
		b = pre
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			noteError(r.Context(), fmt.Errorf("encode response: %w", err))
			b = []byte(`{"error":"internal server error","status":500}`)
			status = http.StatusInternalServerError
		}
		b = append(b, '\n')
	}
	// A shared, read-only value (see headerValue): Header.Set would
	// allocate one per response.
	w.Header()["Content-Type"] = hvJSON
	w.WriteHeader(status)
	w.Write(b)
}

// encodedJSON is a response body encoded in advance, with its final newline,
// for hot routes; respondJSON writes it as it is.
type encodedJSON []byte

var hvJSON = headerValue("application/json; charset=utf-8")
