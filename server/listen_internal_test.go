// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/offen/offen/persistence/persistencetest"
)

// TestSlowBody408: a body that does not arrive within the read timeout is
// a JSON 408 (the server's own timeout, shortened here from 30 s).
func TestSlowBody408(t *testing.T) {
	t.Parallel()
	store := persistencetest.NewSQLiteStore(t)
	srv := newHTTPServer(New(slog.New(slog.DiscardHandler), Options{PublicURL: "http://localhost"}, store, nil, nil, nil, nil))
	srv.ReadTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(jsonErrorListener{ln})
	t.Cleanup(func() { srv.Close() })

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// Half the promised body, then nothing.
	if _, err := io.WriteString(c, "POST /api/login/salt HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"email\":\"a@"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	var body errorBody
	if err := json.Unmarshal(b, &body); err != nil || res.StatusCode != http.StatusRequestTimeout || body.Status != http.StatusRequestTimeout {
		t.Fatalf("got %d %s, want the JSON 408", res.StatusCode, b)
	}
}
