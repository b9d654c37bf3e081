// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

const (
	pointSize      = 65 // uncompressed SEC1 P-256 point: 0x04 ‖ x ‖ y
	userSecretSize = 32
)

// GenerateAccountKey returns a new P-256 key pair for an account.
func GenerateAccountKey() (*ecdh.PrivateKey, error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keys: generate account key: %w", err)
	}
	return k, nil
}

// FormatPublicKey returns "p256.<65-byte uncompressed point>" for a P-256 key.
func FormatPublicKey(pub *ecdh.PublicKey) (string, error) {
	if pub == nil || pub.Curve() != ecdh.P256() {
		return "", fmt.Errorf("keys: format public key: %w: not a P-256 key", ErrMalformed)
	}
	return formatVersioned(LabelP256, pub.Bytes()), nil
}

// ParsePublicKey parses a p256 string. The point must be uncompressed and on
// the curve. Errors wrap ErrMalformed.
func ParsePublicKey(s string) (*ecdh.PublicKey, error) {
	parts, err := parseVersioned(s, LabelP256)
	if err != nil {
		return nil, err
	}
	pub, err := ecdh.P256().NewPublicKey(parts[0])
	if err != nil {
		return nil, fmt.Errorf("keys: parse p256: %w: not a point on P-256", ErrMalformed)
	}
	return pub, nil
}

// MarshalPrivateKey encodes a P-256 private key as PKCS#8 DER (algorithm
// id-ecPublicKey, named curve prime256v1, public key included), the form
// WebCrypto's exportKey("pkcs8") produces and importKey accepts.
func MarshalPrivateKey(priv *ecdh.PrivateKey) ([]byte, error) {
	if priv == nil || priv.Curve() != ecdh.P256() {
		return nil, fmt.Errorf("keys: marshal private key: %w: not a P-256 key", ErrMalformed)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal private key: %w", err)
	}
	return der, nil
}

// ParsePrivateKey parses PKCS#8 DER holding a P-256 EC private key, as made
// by MarshalPrivateKey or WebCrypto's exportKey("pkcs8"). The parse is strict
// (RFC 5208 / RFC 5915 structure, nothing trailing, a 32-byte scalar) and an
// embedded public key must belong to the scalar. Errors wrap ErrMalformed.
func ParsePrivateKey(der []byte) (*ecdh.PrivateKey, error) {
	bad := func(why string) (*ecdh.PrivateKey, error) {
		return nil, fmt.Errorf("keys: parse private key: %w: %s", ErrMalformed, why)
	}
	in := cryptobyte.String(der)
	var info, algo, inner cryptobyte.String
	var version int
	var algOID, curveOID asn1.ObjectIdentifier
	if !in.ReadASN1(&info, cbasn1.SEQUENCE) || !in.Empty() ||
		!info.ReadASN1Integer(&version) || version != 0 ||
		!info.ReadASN1(&algo, cbasn1.SEQUENCE) ||
		!algo.ReadASN1ObjectIdentifier(&algOID) || !algo.ReadASN1ObjectIdentifier(&curveOID) || !algo.Empty() ||
		!info.ReadASN1(&inner, cbasn1.OCTET_STRING) ||
		!info.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !info.Empty() {
		return bad("not PKCS#8")
	}
	if !algOID.Equal(oidECPublicKey) || !curveOID.Equal(oidP256) {
		return bad("not a P-256 EC key")
	}
	var ec, scalar cryptobyte.String
	var hasCurve, hasPub bool
	var curve, pubWrap cryptobyte.String
	if !inner.ReadASN1(&ec, cbasn1.SEQUENCE) || !inner.Empty() ||
		!ec.ReadASN1Integer(&version) || version != 1 ||
		!ec.ReadASN1(&scalar, cbasn1.OCTET_STRING) ||
		!ec.ReadOptionalASN1(&curve, &hasCurve, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!ec.ReadOptionalASN1(&pubWrap, &hasPub, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!ec.Empty() {
		return bad("not an EC private key")
	}
	if hasCurve {
		var oid asn1.ObjectIdentifier
		if !curve.ReadASN1ObjectIdentifier(&oid) || !curve.Empty() || !oid.Equal(oidP256) {
			return bad("curve mismatch")
		}
	}
	// RFC 5915 fixes 32 bytes; like crypto/x509, accept encoders that strip
	// leading zero bytes.
	if len(scalar) == 0 || len(scalar) > 32 {
		return bad("scalar must have 32 bytes")
	}
	padded := make([]byte, 32)
	copy(padded[32-len(scalar):], scalar)
	priv, err := ecdh.P256().NewPrivateKey(padded)
	if err != nil {
		return bad("scalar out of range")
	}
	if hasPub {
		var bits cryptobyte.String
		if !pubWrap.ReadASN1(&bits, cbasn1.BIT_STRING) || !pubWrap.Empty() ||
			len(bits) != 1+pointSize || bits[0] != 0 ||
			!bytes.Equal(bits[1:], priv.PublicKey().Bytes()) {
			return bad("embedded public key does not match")
		}
	}
	return priv, nil
}

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
)

// eciesKey derives the AES key of an e1 ciphertext from the ECDH x-coordinate.
func eciesKey(z []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, z, []byte("offen/v1/e1"), "user-secret", KeySize)
}

// WrapUserSecret wraps a 32-byte user secret for the account's public key:
// "e1.<ephemeral point>.<nonce>.<ciphertext‖tag>" with AAD
// "offen/v1/user-secret|<accountID>".
func WrapUserSecret(pub *ecdh.PublicKey, accountID string, secret []byte) (string, error) {
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("keys: wrap user secret: %w", err)
	}
	return wrapUserSecret(eph, newNonce(), pub, accountID, secret)
}

func wrapUserSecret(eph *ecdh.PrivateKey, nonce []byte, pub *ecdh.PublicKey, accountID string, secret []byte) (string, error) {
	if err := checkKey("wrap user secret", secret); err != nil {
		return "", err
	}
	if pub == nil || pub.Curve() != ecdh.P256() {
		return "", fmt.Errorf("keys: wrap user secret: %w: not a P-256 key", ErrMalformed)
	}
	z, err := eph.ECDH(pub)
	if err != nil {
		return "", fmt.Errorf("keys: wrap user secret: %w", err)
	}
	key, err := eciesKey(z)
	if err != nil {
		return "", err
	}
	c, err := NewCipher(key)
	if err != nil {
		return "", err
	}
	ct := c.Seal(nil, nonce, secret, aad(aadUserSecret, accountID))
	return formatVersioned(LabelE1, eph.PublicKey().Bytes(), nonce, ct), nil
}

// UnwrapUserSecret reverses WrapUserSecret with the account's private key and
// returns the 32-byte user secret. Errors wrap ErrMalformed or ErrDecrypt.
func UnwrapUserSecret(priv *ecdh.PrivateKey, accountID, s string) ([]byte, error) {
	parts, err := parseVersioned(s, LabelE1)
	if err != nil {
		return nil, err
	}
	if priv == nil || priv.Curve() != ecdh.P256() {
		return nil, fmt.Errorf("keys: unwrap user secret: %w: not a P-256 key", ErrMalformed)
	}
	eph, err := ecdh.P256().NewPublicKey(parts[0])
	if err != nil {
		return nil, fmt.Errorf("keys: parse e1: %w: not a point on P-256", ErrMalformed)
	}
	z, err := priv.ECDH(eph)
	if err != nil {
		return nil, fmt.Errorf("keys: unwrap user secret: %w", ErrDecrypt)
	}
	key, err := eciesKey(z)
	if err != nil {
		return nil, err
	}
	c, err := NewCipher(key)
	if err != nil {
		return nil, err
	}
	secret, err := c.Open(nil, parts[1], parts[2], aad(aadUserSecret, accountID))
	if err != nil {
		return nil, fmt.Errorf("keys: unwrap user secret: %w", ErrDecrypt)
	}
	return secret, nil
}
