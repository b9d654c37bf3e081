// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
)

// deviceNonceSize and deviceTagSize make up a device token.
const (
	deviceNonceSize = 16
	deviceTagSize   = 16
)

// NewDeviceToken returns a device token for the login with this e-mail index:
// base64url(nonce ‖ tag), a 16-byte random nonce and the first 16 bytes of
// HMAC-SHA256(key, "offen/v1/device|" ‖ emailIndex ‖ "|" ‖ nonce), where key
// is InstanceKeys.Device. The server keeps no record of it: the tag alone
// proves it issued the token for this login.
func NewDeviceToken(key []byte, emailIndex string) string {
	b := make([]byte, deviceNonceSize, deviceNonceSize+deviceTagSize)
	rand.Read(b)
	return EncodeBase64(append(b, deviceTag(key, emailIndex, b)...))
}

// CheckDeviceToken reports, in constant time, whether token is a device
// token issued with key for this e-mail index.
func CheckDeviceToken(key []byte, emailIndex, token string) bool {
	b, err := DecodeBase64Len(token, deviceNonceSize+deviceTagSize)
	if err != nil {
		return false
	}
	return hmac.Equal(b[deviceNonceSize:], deviceTag(key, emailIndex, b[:deviceNonceSize]))
}

func deviceTag(key []byte, emailIndex string, nonce []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("offen/v1/device|" + emailIndex + "|"))
	m.Write(nonce)
	return m.Sum(nil)[:deviceTagSize]
}
