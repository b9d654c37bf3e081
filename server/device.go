// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net/http"
	"time"

	"github.com/offen/offen/keys"
)

// The device cookie marks a browser that has signed in to a login before
// (keys/PROTOCOL.md §14). It grants nothing by itself: it moves the login
// throttles of that browser from the login's shared failure budget, which
// anyone may drain, to a budget of its own.
const (
	deviceCookie = "device"
	// deviceLifetime is as long as browsers keep a cookie.
	deviceLifetime = 400 * 24 * time.Hour
)

// deviceToken returns the request's device token when it is valid for the
// login with this e-mail index, else "".
func (op *operators) deviceToken(r *http.Request, emailIndex string) string {
	c, err := r.Cookie(deviceCookie)
	if err != nil || op.instance == nil || !keys.CheckDeviceToken(op.instance.Device, emailIndex, c.Value) {
		return ""
	}
	return c.Value
}

// setDeviceCookie renews the request's device token for the login with
// this e-mail index, or issues one.
func (op *operators) setDeviceCookie(w http.ResponseWriter, r *http.Request, emailIndex string) {
	if op.instance == nil {
		return
	}
	token := op.deviceToken(r, emailIndex)
	if token == "" {
		token = keys.NewDeviceToken(op.instance.Device, emailIndex)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     deviceCookie,
		Value:    token,
		Path:     "/api",
		MaxAge:   int(deviceLifetime / time.Second),
		HttpOnly: true,
		Secure:   op.secure,
		SameSite: http.SameSiteStrictMode,
	})
}
