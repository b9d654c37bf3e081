// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package auditorium

import (
	"io/fs"
	"strings"
	"testing"
)

func TestFS(t *testing.T) {
	if _, err := fs.Stat(FS(), ".gitkeep"); err != nil {
		t.Fatalf("got %v, want dist/.gitkeep embedded", err)
	}
	if !Built() {
		t.Skip("dist/ not built (run npm run build in auditorium/)")
	}
	index, err := fs.ReadFile(FS(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`src="/auditorium/assets/`, `type="module"`} {
		if !strings.Contains(string(index), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	if strings.Contains(string(index), "<style") || strings.Contains(string(index), "<script>") {
		t.Error("index.html has inline styles or scripts")
	}
}
