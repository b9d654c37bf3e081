// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package script_test

import (
	"io/fs"
	"testing"

	"github.com/offen/offen/script"
)

func TestManifest(t *testing.T) {
	if !script.Built() {
		t.Skip("dist/ not built: run `npm run build` in script/")
	}
	m, err := script.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"script.js", "vault.js", "vault.css"} {
		path, ok := m[name]
		if !ok {
			t.Fatalf("manifest lacks %q", name)
		}
		if _, err := fs.Stat(script.FS, path); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
