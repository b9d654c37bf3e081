// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	texts := map[string]string{
		"LICENSES/MIT.txt":          "MIT",
		"LICENSES/BSD-3-Clause.txt": "BSD-3-Clause",
		"LICENSES/MPL-2.0.txt":      "MPL-2.0",
		"LICENSES/blessing.txt":     "blessing",
		"LICENSES/Apache-2.0.txt":   "Apache-2.0",
	}
	for file, want := range texts {
		data, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		if got := classify(string(data)); got != want {
			t.Errorf("classify(%s): got %q, want %q", file, got, want)
		}
	}
	if got := classify("All rights reserved. You may not copy this."); got != "" {
		t.Errorf("classify(proprietary): got %q, want empty", got)
	}
}

func TestCopyrightLines(t *testing.T) {
	t.Parallel()
	text := "Copyright (c) 2015-present Jane Doe\n\nCopyright [yyyy] [name of copyright owner]\n" +
		"The above copyright notice and this permission notice shall be included\n" +
		"  Copyright 2009 The Go Authors.\nCopyright (c) <year> <copyright holders>\n"
	got := copyrightLines(text)
	want := []string{"Copyright (c) 2015-present Jane Doe", "Copyright 2009 The Go Authors."}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNPMComponentsSkipsDevelopmentPackages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lock := `{"lockfileVersion": 3, "packages": {
		"": {"name": "x"},
		"node_modules/preact": {"version": "10.0.0", "license": "MIT"},
		"node_modules/esbuild": {"version": "0.20.0", "license": "MIT", "dev": true},
		"node_modules/@esbuild/linux-x64": {"version": "0.20.0", "license": "MIT", "dev": true, "optional": true}
	}}`
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, "node_modules", "preact")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	mit, err := os.ReadFile("../../LICENSES/MIT.txt")
	if err != nil {
		t.Fatal(err)
	}
	license := strings.Replace(string(mit), "Copyright (c) <year> <copyright holders>", "Copyright (c) 2015-present Jason Miller", 1)
	if err := os.WriteFile(filepath.Join(pkg, "LICENSE"), []byte(license), 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := npmComponents([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].name != "preact" || !slices.Equal(got[0].licenses, []string{"MIT"}) {
		t.Fatalf("got %+v, want only preact under MIT", got)
	}
	if !slices.Equal(got[0].copyrights, []string{"Copyright (c) 2015-present Jason Miller"}) {
		t.Errorf("got copyrights %q", got[0].copyrights)
	}

	if err := os.RemoveAll(pkg); err != nil {
		t.Fatal(err)
	}
	if _, err := npmComponents([]string{dir}); err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Errorf("missing node_modules: got error %v, want a hint to run npm ci", err)
	}
}
