// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package keys

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// nodeOrSkip returns the node binary, skipping the test when it is missing
// (failing instead under CI=true).
func nodeOrSkip(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node not found (required under CI=true)")
		}
		t.Skip("node not found: skipping the cross-language test")
	}
	return node
}

// TestCrossLanguage proves that what Go makes, keys/js/crypto.js reads and
// the reverse, for every format, with fresh random keys and nonces.
func TestCrossLanguage(t *testing.T) {
	t.Parallel()
	node := nodeOrSkip(t)

	accountID, loginID := NewUUID(), NewUUID()
	account, err := GenerateAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := FormatPublicKey(account.PublicKey())
	kek, loginKey, userSecret, inviteKey := NewKey(), NewKey(), NewKey(), NewKey()
	password, salt := "Grüße, schöne neue Welt ✓", NewSalt()
	lk, err := DeriveLoginKeys(password, salt, KDFIterations)
	if err != nil {
		t.Fatal(err)
	}
	code := NewRecoveryCode()
	rk, _ := DeriveRecoveryKeys(code)
	ik, _ := DeriveInviteKeys(inviteKey)
	certKey := NewKey()
	secretCipher, _ := NewCipher(userSecret)
	eventJSON := `{"v":1,"type":"PAGEVIEW","href":"https://example.com/ä","referrer":"","pageload":null,"geo":null,"isMobile":true}`

	m := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	input := map[string]any{
		"accountId": accountID, "loginId": loginID, "publicKey": pub,
		"kek": EncodeBase64(kek), "loginKey": EncodeBase64(loginKey), "userSecret": EncodeBase64(userSecret),
		"inviteKey": EncodeBase64(inviteKey), "password": password, "salt": EncodeBase64(salt), "iterations": KDFIterations,
		"recoveryCodeFormatted":   strings.ToLower(FormatRecoveryCode(code)),
		"encryptedPrivateKey":     m(EncryptPrivateKey(kek, accountID, account)),
		"wrappedLoginKey":         m(WrapLoginKey(lk.WrapKey, loginID, loginKey)),
		"recoveryWrappedLoginKey": m(RecoveryWrapLoginKey(rk.Key, loginID, loginKey)),
		"wrappedKek":              m(WrapKEK(loginKey, accountID, kek)),
		"inviteWrappedKek":        m(WrapKEK(ik.WrapKey, accountID, kek)),
		"wrappedSecret":           m(WrapUserSecret(account.PublicKey(), accountID, userSecret)),
		"event":                   EncryptEvent(secretCipher, accountID, []byte(eventJSON)),
		"eventJson":               eventJSON,
		"labelText":               "Ünïcødé.Admin@example.org",
		"label":                   m(EncryptLabel(kek, accountID, "Ünïcødé.Admin@example.org")),
		"certificatesKey":         EncodeBase64(certKey),
		"certificateName":         "offen.example.org",
		"certificateText":         "cert bytes\n",
		"certificate":             m(EncryptCertificate(certKey, "offen.example.org", []byte("cert bytes\n"))),
	}
	in, _ := json.Marshal(input)
	cmd := exec.Command(node, "js/roundtrip.mjs")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var res struct {
		Read map[string]string
		Made map[string]string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decode node output: %v\n%s", err, out)
	}

	t.Run("JS reads Go", func(t *testing.T) {
		for k, want := range map[string]string{
			"authKey":          EncodeBase64(lk.AuthKey),
			"recoveryCode":     EncodeBase64(code),
			"recoveryProof":    EncodeBase64(rk.Proof),
			"inviteToken":      EncodeBase64(ik.Token),
			"loginKey":         EncodeBase64(loginKey),
			"recoveryLoginKey": EncodeBase64(loginKey),
			"kek":              EncodeBase64(kek),
			"inviteKek":        EncodeBase64(kek),
			"privateKeyPublic": pub,
			"userSecret":       EncodeBase64(userSecret),
			"event":            EncodeBase64([]byte(eventJSON)),
			"label":            "Ünïcødé.Admin@example.org",
			"certificate":      EncodeBase64([]byte("cert bytes\n")),
		} {
			if got := res.Read[k]; got != want {
				t.Errorf("%s: got %q, want %q", k, got, want)
			}
		}
	})

	t.Run("Go reads JS", func(t *testing.T) {
		made := res.Made
		check := func(what string, got []byte, err error, want []byte) {
			t.Helper()
			if err != nil {
				t.Errorf("%s: %v", what, err)
			} else if !bytes.Equal(got, want) {
				t.Errorf("%s: got %x, want %x", what, got, want)
			}
		}
		jsPub, err := ParsePublicKey(made["accountPublicKey"])
		if err != nil {
			t.Fatal(err)
		}
		der, _ := DecodeBase64(made["accountPrivateKey"])
		jsPriv, err := ParsePrivateKey(der)
		if err != nil {
			t.Fatalf("parse WebCrypto pkcs8: %v", err)
		}
		if !jsPriv.PublicKey().Equal(jsPub) {
			t.Error("WebCrypto private and public key do not match")
		}
		got, err := UnwrapUserSecret(account, accountID, made["wrappedSecretForGo"])
		check("user secret for Go's key", got, err, userSecret)
		got, err = UnwrapUserSecret(jsPriv, accountID, made["wrappedSecretForJs"])
		check("user secret for the WebCrypto key", got, err, userSecret)
		decPriv, err := DecryptPrivateKey(kek, accountID, made["encryptedPrivateKey"])
		if err != nil || !decPriv.Equal(jsPriv) {
			t.Errorf("private key: %v", err)
		}
		got, err = DecryptEvent(secretCipher, accountID, made["event"])
		check("event", got, err, []byte(eventJSON))
		got, err = UnwrapLoginKey(lk.WrapKey, loginID, made["wrappedLoginKey"])
		check("login key", got, err, loginKey)
		got, err = RecoveryUnwrapLoginKey(rk.Key, loginID, made["recoveryWrappedLoginKey"])
		check("recovery login key", got, err, loginKey)
		got, err = UnwrapKEK(loginKey, accountID, made["wrappedKek"])
		check("kek", got, err, kek)
		got, err = UnwrapKEK(ik.WrapKey, accountID, made["inviteWrappedKek"])
		check("invite kek", got, err, kek)
		label, err := DecryptLabel(kek, accountID, made["label"])
		check("label", []byte(label), err, []byte("Ünïcødé.Admin@example.org"))
		got, err = DecryptCertificate(certKey, "offen.example.org", made["certificate"])
		check("certificate", got, err, []byte("cert bytes\n"))
		if made["recoveryCodeFormatted"] != FormatRecoveryCode(code) {
			t.Errorf("recovery code: got %q, want %q", made["recoveryCodeFormatted"], FormatRecoveryCode(code))
		}
		if _, err := ParseRecoveryCode(made["newRecoveryCode"]); err != nil {
			t.Errorf("new recovery code: %v", err)
		}
		if !ValidKeyID(made["keyId"]) || !ValidKeyID(made["sessionId"]) || !ValidUUID(made["uuid"]) {
			t.Errorf("ids: %q %q %q", made["keyId"], made["sessionId"], made["uuid"])
		}
	})
}
