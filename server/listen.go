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
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Timeouts of PROTOCOL.md §7.1. Routes that stream longer (feed pages, 120 s)
// extend their write deadline with http.ResponseController.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	// defaultShutdownTimeout bounds how long in-flight requests may take to
	// finish after the context ends.
	defaultShutdownTimeout = 30 * time.Second
)

// ListenOptions say where and how Listen serves.
type ListenOptions struct {
	// Addr is the host:port of the plain HTTP listener; an empty host means
	// all interfaces.
	Addr string
	// ShutdownTimeout bounds the graceful shutdown; zero means 30 seconds.
	ShutdownTimeout time.Duration
	// Listening, when set, is called with the bound address once the listener
	// accepts connections.
	Listening func(net.Addr)
	// TLS, when set, serves TLS from certificate files or with autocert
	// (tls.go); nil serves plain HTTP.
	TLS *TLSOptions
}

// Listen serves handler until ctx ends, then stops accepting connections and
// waits (up to the shutdown timeout) for in-flight requests to finish. It
// returns nil after a clean shutdown.
func Listen(ctx context.Context, logger *slog.Logger, opts ListenOptions, handler http.Handler) error {
	if opts.TLS != nil {
		return listenTLS(ctx, logger, opts, handler)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	srv := newHTTPServer(handler)
	ln = jsonErrorListener{ln}
	logger.Info("listening", "addr", ln.Addr().String())
	if opts.Listening != nil {
		opts.Listening(ln.Addr())
	}
	return serveUntilDone(ctx, logger, opts.ShutdownTimeout, serving{srv, func() error { return srv.Serve(ln) }})
}

// newHTTPServer returns a server with every timeout set. The standard
// library's own error log is discarded because its messages carry client
// addresses, which Offen never logs.
func newHTTPServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

// serving pairs a server with the call that runs it (Serve, ServeTLS...).
type serving struct {
	srv   *http.Server
	serve func() error
}

// serveUntilDone runs every server until ctx ends or one of them fails, then
// shuts all of them down gracefully. TLS setups pass several (the HTTPS
// listener and the port 80 redirect and ACME challenge listener).
func serveUntilDone(ctx context.Context, logger *slog.Logger, timeout time.Duration, all ...serving) error {
	if timeout <= 0 {
		timeout = defaultShutdownTimeout
	}
	failed := make(chan error, len(all))
	for _, s := range all {
		go func() {
			if err := s.serve(); !errors.Is(err, http.ErrServerClosed) {
				failed <- err
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down; finishing in-flight requests", "timeout", timeout.String())
	case serveErr = <-failed:
		logger.Error("server failed; shutting down", "error", serveErr)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var errs []error
	for _, s := range all {
		if err := s.srv.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
	}
	if serveErr != nil {
		errs = append([]error{fmt.Errorf("serve: %w", serveErr)}, errs...)
	}
	if len(errs) == 0 {
		logger.Info("stopped")
	}
	return errors.Join(errs...)
}

// goErrorHeaders follow the status line of the responses that net/http
// writes itself, before any handler runs, for requests it cannot parse
// (headers too large, a bad Content-Length, a NUL in the path, control
// bytes in a header value).
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// jsonErrorListener hands out connections whose net/http error responses
// become the JSON error of every other response (errorBody). Such a
// response is one Write straight to the connection, and no handler's
// response can look like it: those carry at least Date and X-Request-Id
// between the status line and the blank line. It works on plain
// connections only: net/http needs a *tls.Conn to serve TLS.
type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return jsonErrorConn{c}, nil
}

type jsonErrorConn struct{ net.Conn }

func (c jsonErrorConn) Write(p []byte) (int, error) {
	if b, ok := jsonGoError(p); ok {
		if _, err := c.Conn.Write(b); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// jsonGoError rewrites p when it is a whole net/http error response:
// "HTTP/1.1 <code> <text>[: <reason>]" + goErrorHeaders + text.
func jsonGoError(p []byte) ([]byte, bool) {
	line, rest, ok := bytes.Cut(p, []byte("\r\n"))
	if !ok || len(line) < 13 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) ||
		!bytes.HasPrefix(rest, []byte(goErrorHeaders[2:])) {
		return nil, false
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil || code < 400 || code > 599 {
		return nil, false
	}
	message := strings.ToLower(http.StatusText(code))
	if _, reason, ok := strings.Cut(string(line[13:]), ": "); ok {
		// net/http's fixed reasons ("invalid header value", "missing
		// required Host header"); they echo nothing of the request.
		message += ": " + reason
	}
	body, _ := json.Marshal(errorBody{Error: message, Status: code})
	body = append(body, '\n')
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	b.WriteString("Content-Type: application/json; charset=utf-8\r\n")
	b.WriteString("Cache-Control: no-store\r\n")
	b.WriteString("X-Content-Type-Options: nosniff\r\n")
	b.WriteString("Content-Security-Policy: " + cspOther + "\r\n")
	b.WriteString("Connection: close\r\n")
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.Bytes(), true
}

// CloseWrite keeps net/http's half-close after a 431 (it lets the client
// read the answer before the connection goes).
func (c jsonErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
