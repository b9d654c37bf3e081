// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/offen/offen/persistence"
)

// feedWriteTimeout is the write deadline of a feed page or an export
// (PROTOCOL §7.1), longer than the server's default.
const feedWriteTimeout = 120 * time.Second

// feedQuery reads ?since= and ?limit= (PROTOCOL §6). A limit outside
// 1–5,000 is 400; a malformed cursor is found by the store (400 too).
func feedQuery(r *http.Request) (persistence.FeedQuery, error) {
	q := r.URL.Query()
	fq := persistence.FeedQuery{Since: q.Get("since")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > persistence.MaxFeedLimit {
			return fq, &validationError{fields: map[string]string{
				"limit": fmt.Sprintf("must be an integer from 1 to %d", persistence.MaxFeedLimit),
			}}
		}
		fq.Limit = n
	}
	return fq, nil
}

// extendDeadlines gives a streaming response feedWriteTimeout from now,
// to write and to read from the database (requestDeadline). Writers that
// cannot (httptest's recorder) keep the server's write deadline; the error
// says so and is otherwise ignored.
func extendDeadlines(w http.ResponseWriter, r *http.Request) error {
	if info := infoFrom(r.Context()); info != nil && info.deadline != nil {
		info.deadline.Reset(feedWriteTimeout)
	}
	return http.NewResponseController(w).SetWriteDeadline(time.Now().Add(feedWriteTimeout))
}

// committedWriter sends the status and headers with the first bytes that
// reach the client.
type committedWriter struct {
	w           http.ResponseWriter
	contentType string
	committed   bool
}

func (c *committedWriter) Write(p []byte) (int, error) {
	if !c.committed {
		c.committed = true
		c.w.Header().Set("Content-Type", c.contentType)
		c.w.WriteHeader(http.StatusOK)
	}
	return c.w.Write(p)
}

// streamWriter writes one JSON or NDJSON response item by item through a
// buffer, so that a page is never held in memory. Until the first bytes
// leave the buffer a failure can still become an error response (fail);
// afterwards it aborts the connection and the client retries.
type streamWriter struct {
	w   http.ResponseWriter
	cw  *committedWriter
	buf *bufio.Writer
}

// streamBuffers pools the buffers of streamed responses (a feed page is
// many of them in a row during a dashboard's cold load).
var streamBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

func newStreamWriter(w http.ResponseWriter, contentType string) *streamWriter {
	cw := &committedWriter{w: w, contentType: contentType}
	buf := streamBuffers.Get().(*bufio.Writer)
	buf.Reset(cw)
	return &streamWriter{w: w, cw: cw, buf: buf}
}

// release returns the buffer to the pool once the response is done (or
// aborted); the writer must not be used afterwards.
func (s *streamWriter) release() {
	if s.buf == nil {
		return
	}
	s.buf.Reset(nil)
	streamBuffers.Put(s.buf)
	s.buf = nil
}

func (s *streamWriter) write(b []byte) error {
	_, err := s.buf.Write(b)
	return err
}

// finish flushes what is buffered; an empty response still gets its status.
func (s *streamWriter) finish() error {
	if s.buf.Buffered() == 0 && !s.cw.committed {
		s.cw.Write(nil)
	}
	return s.buf.Flush()
}

// fail answers err as an error response when nothing was sent yet, and
// otherwise aborts the response so the client sees a broken page.
func (s *streamWriter) fail(r *http.Request, err error) {
	if !s.cw.committed {
		s.buf.Reset(io.Discard)
		respondError(s.w, r, err)
		return
	}
	noteError(r.Context(), err)
	panic(http.ErrAbortHandler)
}

// pageWriter writes a Page of PROTOCOL §7.1: {"<kind>": [...], ..., tail}.
// Items arrive kind by kind in the order of kinds; kinds without items are
// written as empty arrays.
type pageWriter struct {
	*streamWriter
	kinds   []string
	current int // index into kinds of the open array; -1 before the first
	empty   bool
}

func newPageWriter(w http.ResponseWriter, kinds ...string) *pageWriter {
	return &pageWriter{streamWriter: newStreamWriter(w, "application/json; charset=utf-8"), kinds: kinds, current: -1}
}

// advance closes arrays up to kind and opens it.
func (p *pageWriter) advance(kind string) error {
	i := slices.Index(p.kinds, kind)
	if i < p.current || i < 0 {
		return fmt.Errorf("feed: item kind %q out of order", kind)
	}
	for p.current < i {
		var sep string
		switch {
		case p.current == -1:
			sep = "{"
		default:
			sep = "],"
		}
		p.current++
		if err := p.write([]byte(sep + strconv.Quote(p.kinds[p.current]) + ":[")); err != nil {
			return err
		}
		p.empty = true
	}
	return nil
}

// item writes v into the array of kind.
func (p *pageWriter) item(kind string, v any) error {
	if err := p.advance(kind); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if !p.empty {
		b = append([]byte{','}, b...)
	}
	p.empty = false
	return p.write(b)
}

// itemBuffer starts the next item of kind for a caller that encodes it
// itself: it returns the buffer's free space, with the separator from the
// previous item already in it, for the caller to append the item's JSON to
// and hand to write at once. size is the item's expected length; when it
// fits the buffer at all, the buffer is flushed first if needed so that the
// item is encoded in place without an allocation.
func (p *pageWriter) itemBuffer(kind string, size int) ([]byte, error) {
	if err := p.advance(kind); err != nil {
		return nil, err
	}
	if p.buf.Available() <= size && p.buf.Buffered() > 0 {
		if err := p.buf.Flush(); err != nil {
			return nil, err
		}
	}
	b := p.buf.AvailableBuffer()
	if !p.empty {
		b = append(b, ',')
	}
	p.empty = false
	return b, nil
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// encodes it. Feed values (ids, ASCII ciphertexts) take the fast path;
// anything with bytes encoding/json escapes or might (controls, quotes,
// backslashes, <, >, &, non-ASCII) is left to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil { // not for a string; kept for form's sake
				panic(err)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// end writes the remaining empty arrays and the fields of tail, a struct
// encoding to a non-empty JSON object, then flushes.
func (p *pageWriter) end(tail any) error {
	if err := p.advance(p.kinds[len(p.kinds)-1]); err != nil {
		return err
	}
	b, err := json.Marshal(tail)
	if err != nil {
		return err
	}
	if len(b) < 2 || b[0] != '{' {
		return fmt.Errorf("feed: tail is not an object")
	}
	b[0] = ','
	if err := p.write(append([]byte("]"), append(b, '\n')...)); err != nil {
		return err
	}
	return p.finish()
}

// pageTail holds the Page fields every feed has.
type pageTail struct {
	Next  string `json:"next"`
	More  bool   `json:"more"`
	Reset bool   `json:"reset"`
}

func tailOf(page persistence.FeedPage) pageTail {
	return pageTail{Next: page.Next, More: page.More, Reset: page.Reset}
}

// event writes one event to the "events" array; the feeds and a period's events
// share its encoding.
func (pw *pageWriter) event(e persistence.Event) error {
	b, err := pw.itemBuffer("events", eventJSONSize(e))
	if err != nil {
		return err
	}
	return pw.write(appendEventJSON(b, e))
}

// secret writes one wrapped secret to the "secrets" array.
func (pw *pageWriter) secret(s persistence.Secret) error {
	b, err := pw.itemBuffer("secrets", secretJSONSize(s))
	if err != nil {
		return err
	}
	return pw.write(appendSecretJSON(b, s))
}
