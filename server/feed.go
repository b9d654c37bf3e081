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

// extendWriteDeadline gives a streaming response feedWriteTimeout from now.
// Writers that cannot (httptest's recorder) keep the server's deadline; the
// error says so and is otherwise ignored.
func extendWriteDeadline(w http.ResponseWriter) error {
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

func newStreamWriter(w http.ResponseWriter, contentType string) *streamWriter {
	cw := &committedWriter{w: w, contentType: contentType}
	return &streamWriter{w: w, cw: cw, buf: bufio.NewWriterSize(cw, 32<<10)}
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
