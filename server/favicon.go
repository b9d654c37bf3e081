// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"time"
)

// favicon is /favicon.ico, drawn at start rather than kept as a binary file:
// a ring in the auditorium's primary colour. Browsers ask for it on every
// page, and a 404 there fills logs and consoles.
var favicon = drawFavicon()

func drawFavicon() []byte {
	const size = 32
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	primary := color.NRGBA{0x0b, 0x53, 0x94, 0xff}
	for y := range size {
		for x := range size {
			dx, dy := float64(x)-15.5, float64(y)-15.5
			if d := dx*dx + dy*dy; d <= 15.5*15.5 && d >= 7*7 {
				img.SetNRGBA(x, y, primary)
			}
		}
	}
	var p bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	// An ICO file of one PNG image (supported by every current browser):
	// the directory header, one entry, the image.
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	le([3]uint16{0, 1, 1})
	le([4]uint8{size, size, 0, 0})
	le([2]uint16{1, 32})
	le([2]uint32{uint32(p.Len()), 6 + 16})
	b.Write(p.Bytes())
	return b.Bytes()
}

// handleFavicon serves /favicon.ico.
func handleFavicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/x-icon")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, "favicon.ico", time.Time{}, bytes.NewReader(favicon))
}

// handleNotice serves /NOTICE.txt: the licenses of what the binary bundles,
// as the licenses ask that they reach whoever receives the software.
func handleNotice(notice []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if len(notice) == 0 {
			handleNotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", cacheLocales)
		http.ServeContent(w, r, "NOTICE.txt", time.Time{}, bytes.NewReader(notice))
	}
}
