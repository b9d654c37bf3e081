// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

// Package auditorium embeds the built single-page app: the operator dashboard, the visitor's
// own-data view and the console. `npm run build` (build.mjs) writes it to dist/; without a
// build dist/ holds only .gitkeep, the package still compiles and Built reports false.
package auditorium

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// FS returns the built files rooted at dist/: index.html (the SPA shell) and assets/ with
// content-hashed scripts and styles.
func FS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path; fs.Sub fails only for invalid ones
	}
	return sub
}

// Built reports whether dist/ holds a build (an index.html).
func Built() bool {
	_, err := fs.Stat(FS(), "index.html")
	return err == nil
}
