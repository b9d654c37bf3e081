// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReuseLint runs .ci/reuse-lint.py (what `make reuse` and CI run) on a
// small git repository: files covered by REUSE.toml or by their own SPDX tags
// pass, and a file whose header was deleted makes it fail, naming the file.
func TestReuseLint(t *testing.T) {
	if _, err := exec.LookPath("reuse"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("reuse is not installed: CI=true requires it")
		}
		t.Skip("skipping: reuse is not installed (apt-get install reuse)")
	}
	t.Parallel()
	repo := t.TempDir()
	copyFile(t, "../../REUSE.toml", filepath.Join(repo, "REUSE.toml"))
	copyFile(t, "../../LICENSES/Apache-2.0.txt", filepath.Join(repo, "LICENSES", "Apache-2.0.txt"))
	copyFile(t, "../../.ci/reuse-lint.py", filepath.Join(repo, ".ci", "reuse-lint.py"))
	header := "// " + tagCopyright + "2026 Offen developers\n// " + tagLicense + "Apache-2.0\n\n"
	write(t, filepath.Join(repo, "main.go"), header+"package main\n")
	write(t, filepath.Join(repo, "web", "package-lock.json"), "{}\n")        // REUSE.toml
	write(t, filepath.Join(repo, "web", "dist", ".gitkeep"), "")             // REUSE.toml
	write(t, filepath.Join(repo, "keys", "testdata", "vectors.bin"), "\x00") // REUSE.toml
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", ".")
	lint := func() (string, error) {
		cmd := exec.Command("python3", ".ci/reuse-lint.py")
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	if out, err := lint(); err != nil {
		t.Fatalf("compliant repository: %v\n%s", err, out)
	}
	write(t, filepath.Join(repo, "main.go"), "package main\n")
	out, err := lint()
	if err == nil {
		t.Fatalf("a file without its header passed:\n%s", out)
	}
	if !strings.Contains(out, "* main.go") {
		t.Errorf("the report does not name main.go:\n%s", out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	write(t, to, string(data))
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
