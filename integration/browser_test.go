// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one browser step (a navigation, a wait, a script).
const stepTimeout = 30 * time.Second

// The steps of the journeys, in addition to harness_test.go's Browser
// methods: forms, waits on DOM conditions, isolated worlds in same-site
// frames (the vault on another localhost port), axe-core and downloads.

// run runs actions with the step timeout and fails the test on error.
func (b *Browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := b.tryDo(actions...); err != nil {
		b.t.Fatalf("browser at %s: %v\n%s", b.location(), err, b.diagnosis())
	}
}

// diagnosis describes the page after a failed step: its visible text and
// what it printed to the console.
func (b *Browser) diagnosis() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	var text string
	if err := chromedp.Do(ctx, evaluate(`document.body ? document.body.innerText.slice(0, 600) : ''`, &text, 0)); err != nil {
		text = "(page text unavailable: " + err.Error() + ")"
	}
	return "page text: " + text + "\npage console:\n" + b.pageLog.String()
}

// try runs actions with the step timeout.
func (b *Browser) tryDo(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

func (b *Browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// WaitVisible waits until the element matching sel is visible.
func (b *Browser) WaitVisible(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

// evalJS evaluates a JavaScript expression in the page, awaiting promises; out
// receives the JSON value (may be nil).
func (b *Browser) evalJS(expr string, out any) {
	b.t.Helper()
	if err := b.tryDo(evaluate(expr, out, 0)); err != nil {
		b.t.Fatalf("browser at %s: eval %q: %v\n%s", b.location(), short(expr), err, b.diagnosis())
	}
}

// UntilJS polls the JavaScript condition expr in the page until it is truthy.
func (b *Browser) UntilJS(expr, what string) {
	b.t.Helper()
	b.UntilInFrame("", expr, what)
}

// UntilInFrame polls expr in the frame whose URL starts with framePrefix (the page
// itself when empty) until it is truthy. Polling, not sleeping: it returns as
// soon as the condition holds.
func (b *Browser) UntilInFrame(framePrefix, expr, what string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var last error
	for time.Now().Before(deadline) {
		var ok bool
		err := b.tryDo(inFrame(framePrefix, "Promise.resolve("+expr+").then((v) => !!v)", &ok))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("browser at %s: timed out waiting for %s (%s); last error: %v", b.location(), what, short(expr), last)
}

// FrameEval evaluates expr in an isolated world of the frame whose URL starts
// with framePrefix: the frame's DOM, cookies and origin, without its globals.
func (b *Browser) FrameEval(framePrefix, expr string, out any) {
	b.t.Helper()
	if err := b.tryDo(inFrame(framePrefix, expr, out)); err != nil {
		b.t.Fatalf("browser at %s: eval in frame %s: %q: %v", b.location(), framePrefix, short(expr), err)
	}
}

// Fill sets the value of the input matching sel as a user would (an input
// event follows), so that the page's components see it.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	b.WaitVisible(sel)
	sj, _ := json.Marshal(sel)
	vj, _ := json.Marshal(value)
	b.evalJS(fmt.Sprintf(`(() => {
		const el = document.querySelector(%s)
		const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype
		Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, %s)
		el.dispatchEvent(new Event('input', { bubbles: true }))
		el.dispatchEvent(new Event('change', { bubbles: true }))
		return true
	})()`, sj, vj), nil)
}

// Check ticks the checkbox matching sel.
func (b *Browser) Check(sel string) {
	b.t.Helper()
	b.WaitVisible(sel)
	sj, _ := json.Marshal(sel)
	b.evalJS(fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el.checked) el.click(); return el.checked })()`, sj), nil)
}

// Click clicks the element matching sel once it is visible.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// Submit submits the form of the field matching sel through its submit
// button (so that disabled buttons stay disabled).
func (b *Browser) Submit(sel string) {
	b.t.Helper()
	sj, _ := json.Marshal(sel)
	b.UntilJS(fmt.Sprintf(`(() => { const b = document.querySelector(%s)?.form?.querySelector('[type=submit]'); return b && !b.disabled })()`, sj), "an enabled submit button")
	b.evalJS(fmt.Sprintf(`(() => { document.querySelector(%s).form.querySelector('[type=submit]').click(); return true })()`, sj), nil)
}

// Text returns the text content of the element matching sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	b.WaitVisible(sel)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser at %s: text of %s: %v", b.location(), sel, err)
	}
	return strings.TrimSpace(s)
}

// WaitPath waits until the page's location path starts with prefix.
func (b *Browser) WaitPath(prefix string) {
	b.t.Helper()
	pj, _ := json.Marshal(prefix)
	b.UntilJS("location.pathname.startsWith("+string(pj)+")", "the path "+prefix)
}

// FetchStatus fetches path on the page's origin with the page's cookies and
// returns the HTTP status.
func (b *Browser) FetchStatus(framePrefix, method, path, body string) int {
	b.t.Helper()
	var status int
	init := map[string]any{"method": method, "credentials": "include"}
	if body != "" {
		init["body"] = body
		init["headers"] = map[string]string{"Content-Type": "application/json"}
	}
	ij, _ := json.Marshal(init)
	pj, _ := json.Marshal(path)
	b.FrameEval(framePrefix, fmt.Sprintf(`fetch(%s, %s).then(r => r.status)`, pj, ij), &status)
	return status
}

// FetchJSON fetches path (GET) on the frame's origin and decodes the JSON.
func (b *Browser) FetchJSON(framePrefix, path string, out any) {
	b.t.Helper()
	pj, _ := json.Marshal(path)
	b.FrameEval(framePrefix, fmt.Sprintf(`fetch(%s, {credentials: 'include'}).then(r => r.ok ? r.json() : {status: r.status})`, pj), out)
}

// Axe runs axe-core on the page (and, with framePrefix, in that frame) and
// fails the test for every violation.
func (b *Browser) Axe(what string, framePrefix ...string) {
	b.t.Helper()
	frames := append([]string{""}, framePrefix...)
	for _, f := range frames {
		var violations []struct {
			ID    string `json:"id"`
			Help  string `json:"help"`
			Nodes []struct {
				Target []any  `json:"target"`
				HTML   string `json:"html"`
			} `json:"nodes"`
		}
		expr := axeScript(b.t) + `
;(async () => {
	const r = await axe.run(document, { resultTypes: ['violations'], iframes: false })
	return r.violations.map(v => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 5).map(n => ({ target: n.target, html: n.html.slice(0, 200) })) }))
})()`
		if err := b.tryDo(isolated(f, expr, &violations)); err != nil {
			b.t.Errorf("axe on %s (%s): %v", what, b.location(), err)
			continue
		}
		for _, v := range violations {
			var nodes []string
			for _, n := range v.Nodes {
				nodes = append(nodes, fmt.Sprintf("%v %s", n.Target, n.HTML))
			}
			where := what
			if f != "" {
				where += " (frame " + f + ")"
			}
			b.t.Errorf("axe on %s: %s: %s\n    %s", where, v.ID, v.Help, strings.Join(nodes, "\n    "))
		}
	}
}

// EnableDownloads lets the browser save downloads into a folder of its own,
// read by Download.
func (b *Browser) EnableDownloads() {
	b.t.Helper()
	b.downloads = b.t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: b.downloads,
	}); err != nil {
		b.t.Fatalf("enable downloads: %v", err)
	}
}

// Download waits for a file whose name ends with suffix in the download
// folder (EnableDownloads) and returns its content.
func (b *Browser) Download(suffix string) []byte {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(b.downloads)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), suffix) {
				data, err := os.ReadFile(filepath.Join(b.downloads, e.Name()))
				if err == nil && len(data) > 0 {
					return data
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("no download ending in %s", suffix)
	return nil
}

// evaluate is Runtime.evaluate in the page's main world (awaiting promises,
// returning by value), or in the isolated world contextID.
func evaluate(expr string, out any, contextID runtime.ExecutionContextID) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		yes := true
		r, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{
			Expression: expr, AwaitPromise: &yes, ReturnByValue: &yes, ContextID: contextID,
		})
		if err != nil {
			return err
		}
		res, exc := r.Result, r.ExceptionDetails
		if exc != nil {
			msg := exc.Text
			if exc.Exception != nil && exc.Exception.Description != "" {
				msg = exc.Exception.Description
			}
			return errors.New("script error: " + msg)
		}
		if out == nil || res == nil || len(res.Value) == 0 {
			return nil
		}
		return json.Unmarshal(res.Value, out)
	})
}

// inFrame evaluates expr in the page (framePrefix empty) or in an isolated
// world of the first frame whose URL starts with framePrefix.
func inFrame(framePrefix, expr string, out any) chromedp.Action[chromedp.Void] {
	if framePrefix == "" {
		return evaluate(expr, out, 0)
	}
	return isolated(framePrefix, expr, out)
}

// isolated evaluates expr in a new isolated world of the first frame whose
// URL starts with framePrefix (the page itself when empty): the frame's DOM,
// without its globals and its Content-Security-Policy.
func isolated(framePrefix, expr string, out any) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return err
		}
		frame := findFrame(tree.FrameTree, framePrefix)
		if frame == nil {
			return fmt.Errorf("no frame at %s", framePrefix)
		}
		world, err := cdp.Call(ctx, t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: frame.ID, WorldName: "integration"})
		if err != nil {
			return err
		}
		_, err = evaluate(expr, out, world.ExecutionContextID)(ctx, t)
		return err
	})
}

func findFrame(tree *page.FrameTree, prefix string) *cdp.Frame {
	if tree == nil {
		return nil
	}
	if strings.HasPrefix(tree.Frame.URL, prefix) {
		return tree.Frame
	}
	for _, c := range tree.ChildFrames {
		if f := findFrame(c, prefix); f != nil {
			return f
		}
	}
	return nil
}

// requireChromium skips (or fails under CI=true) without Chromium, before a
// test starts instances it could not drive.
func requireChromium(t *testing.T) {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		skipOrFail(t, "chromium not installed at "+path+" (apt-get install chromium)")
	}
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axeScript returns axe.min.js of integration/node_modules (npm ci in
// integration/, which make test-integration runs); without it the test
// skips, or fails under CI=true.
func axeScript(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		var b []byte
		b, axeErr = os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
		axeSource = string(b)
	})
	if axeErr != nil {
		skipOrFail(t, "axe-core is not installed: run npm ci in integration/ (make test-integration does)")
	}
	return axeSource
}

func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
