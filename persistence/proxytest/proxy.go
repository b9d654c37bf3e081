// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package proxytest puts a TCP proxy on 127.0.0.1 in front of a real
// database server, so that tests can take the database away the way a
// network or a restart does: Cut closes every connection and refuses new
// ones, Freeze keeps them open but lets nothing through (a silent
// database), Restore brings the database back.
package proxytest

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proxy forwards TCP connections from Addr to a target address.
type Proxy struct {
	t      testing.TB
	target string
	// Addr is the host:port the proxy listens on.
	Addr string

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	frozen chan struct{} // closed while data may flow
	closed bool
}

// New starts a proxy to target (host:port), stopped in t.Cleanup.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	flowing := make(chan struct{})
	close(flowing)
	p := &Proxy{t: t, target: target, Addr: ln.Addr().String(), conns: map[net.Conn]bool{}, frozen: flowing}
	p.serve(ln)
	t.Cleanup(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.Cut()
	})
	return p
}

// ForDSN starts a proxy in front of the server a postgres (key=value) or
// mysql (user@tcp(host:port)/db) DSN names and returns the DSN through it.
func ForDSN(t testing.TB, dialect, dsn string) (*Proxy, string) {
	t.Helper()
	switch dialect {
	case "postgres":
		host, port := "127.0.0.1", "5432"
		if m := pgHost.FindStringSubmatch(dsn); m != nil {
			host = m[1]
		}
		if m := pgPort.FindStringSubmatch(dsn); m != nil {
			port = m[1]
		}
		p := New(t, net.JoinHostPort(host, port))
		h, pt, _ := net.SplitHostPort(p.Addr)
		out := pgPort.ReplaceAllString(pgHost.ReplaceAllString(dsn, ""), "")
		return p, strings.TrimSpace(out) + " host=" + h + " port=" + pt
	case "mysql":
		m := mysqlAddr.FindStringSubmatch(dsn)
		if m == nil {
			t.Fatalf("proxytest: no tcp(host:port) in the mysql DSN %q", dsn)
		}
		p := New(t, m[1])
		return p, strings.Replace(dsn, m[0], "@tcp("+p.Addr+")", 1)
	}
	t.Fatalf("proxytest: no proxy for dialect %q", dialect)
	return nil, ""
}

var (
	pgHost    = regexp.MustCompile(`\bhost=(\S+)`)
	pgPort    = regexp.MustCompile(`\bport=(\S+)`)
	mysqlAddr = regexp.MustCompile(`@tcp\(([^)]+)\)`)
)

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *Proxy) forward(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	p.conns[client], p.conns[server] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go p.pipe(server, client, done)
	go p.pipe(client, server, done)
	<-done
	client.Close()
	server.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// pipe copies from src to dst, holding each chunk while the proxy is
// frozen.
func (p *Proxy) pipe(dst, src net.Conn, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			flowing := p.frozen
			p.mu.Unlock()
			<-flowing
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Cut closes the listener and every connection: clients see their
// connections break and new ones refused, as when the database server
// stops.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.thaw()
}

// Freeze lets connections open, and stay open, but forwards nothing: a
// database that stopped answering (a hung server, a partitioned network).
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.frozen:
		p.frozen = make(chan struct{})
	default:
	}
}

// thaw lets data flow again; p.mu is held.
func (p *Proxy) thaw() {
	select {
	case <-p.frozen:
	default:
		close(p.frozen)
	}
}

// Restore undoes Cut and Freeze: the proxy listens on its address again
// and forwards.
func (p *Proxy) Restore() {
	p.t.Helper()
	p.mu.Lock()
	p.thaw()
	if p.ln != nil || p.closed {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	var ln net.Listener
	var err error
	// The port was ours a moment ago; a client's connection attempt in
	// TIME_WAIT can hold it briefly.
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.Addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(fmt.Errorf("proxytest: listen again on %s: %w", p.Addr, err))
	}
	p.serve(ln)
}
