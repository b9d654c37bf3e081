// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"

	"github.com/offen/offen/keys"
	"github.com/offen/offen/persistence"
)

// Shape checks of request fields. They look at formats only; what a value
// decrypts to is for the clients to check (the server cannot).

// maxCiphertextLength bounds any ciphertext field of an operator request.
const maxCiphertextLength = 64 * 1024

// isA1 accepts a well-formed a1 ciphertext (keys.CheckFormat).
func isA1(s string) bool {
	return len(s) <= maxCiphertextLength && keys.CheckFormat(s, keys.LabelA1) == nil
}

// isKey32 accepts the base64url form of 32 bytes.
func isKey32(s string) bool {
	_, err := keys.DecodeBase64Len(s, keys.KeySize)
	return err == nil
}

// checkEmail adds a problem for a malformed address.
func checkEmail(fields map[string]string, name, email string) {
	if _, err := keys.NormalizeEmail(email); err != nil {
		fields[name] = "must be an e-mail address"
	}
}

// credentialsRequest is Credentials of PROTOCOL §7.1.
type credentialsRequest struct {
	Salt                    string `json:"salt"`
	AuthKey                 string `json:"authKey"`
	WrappedLoginKey         string `json:"wrappedLoginKey"`
	RecoveryWrappedLoginKey string `json:"recoveryWrappedLoginKey"`
	RecoveryProof           string `json:"recoveryProof"`
}

func (c credentialsRequest) check(fields map[string]string, prefix string) {
	if _, err := keys.DecodeBase64Len(c.Salt, keys.KDFSaltSize); err != nil {
		fields[prefix+"salt"] = "must be 16 bytes in base64url"
	}
	if !isKey32(c.AuthKey) {
		fields[prefix+"authKey"] = "must be 32 bytes in base64url"
	}
	if !isA1(c.WrappedLoginKey) {
		fields[prefix+"wrappedLoginKey"] = "must be an a1 ciphertext"
	}
	if !isA1(c.RecoveryWrappedLoginKey) {
		fields[prefix+"recoveryWrappedLoginKey"] = "must be an a1 ciphertext"
	}
	if !isKey32(c.RecoveryProof) {
		fields[prefix+"recoveryProof"] = "must be 32 bytes in base64url"
	}
}

// credentials turns checked request credentials into what is stored: the
// argon2id1 hash of the auth key (made in pool) and SHA-256 of the proof.
func (c credentialsRequest) credentials(ctx context.Context, pool *argonPool) (persistence.Credentials, error) {
	salt, err := keys.DecodeBase64Len(c.Salt, keys.KDFSaltSize)
	if err != nil {
		return persistence.Credentials{}, badRequest("malformed salt")
	}
	authHash, err := pool.hashAuthKey(ctx, false, c.AuthKey)
	if err != nil {
		return persistence.Credentials{}, err
	}
	proof, err := keys.DecodeBase64Len(c.RecoveryProof, keys.KeySize)
	if err != nil {
		return persistence.Credentials{}, badRequest("malformed recovery proof")
	}
	return persistence.Credentials{
		KDF:                     kdfName,
		KDFSalt:                 salt,
		AuthHash:                authHash,
		WrappedLoginKey:         c.WrappedLoginKey,
		RecoveryWrappedLoginKey: c.RecoveryWrappedLoginKey,
		RecoveryProofHash:       hashHex(proof),
	}, nil
}
