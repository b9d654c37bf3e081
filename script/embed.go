// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package script embeds the built tracking script and vault (dist/, produced by
// `npm run build` in this folder). Without a build, FS holds only .gitkeep and
// Built reports false.
package script

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// FS is the content of dist/: script.js, manifest.json and vault/assets/*, with paths as
// listed in manifest.json.
var FS fs.FS = mustSub(dist, "dist")

// Built reports whether FS holds a build (manifest.json exists).
func Built() bool {
	_, err := fs.Stat(FS, "manifest.json")
	return err == nil
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// Manifest returns manifest.json: logical names ("script.js", "vault.js", "vault.css")
// mapped to file paths in FS, which are also URL paths below the server root.
func Manifest() (map[string]string, error) {
	b, err := fs.ReadFile(FS, "manifest.json")
	if err != nil {
		return nil, fmt.Errorf("script: read manifest: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("script: parse manifest: %w", err)
	}
	return m, nil
}
