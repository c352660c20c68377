package app

import (
	"crypto/rand"
	"encoding/base64"
)

// Pages are compressed (compress.go) and carry the session's CSRF token, the
// setting of the BREACH attack: an attacker who can make a victim's browser
// load a page reflecting text of theirs, and can observe the compressed
// sizes, guesses the token byte by byte. The token is therefore never sent
// as it is: each response carries it XORed with a fresh random pad, pad
// first (maskCSRF), so the secret's bytes differ in every response and
// compression has nothing stable to match. Posts send the masked form back;
// unmaskCSRF recovers the token.

// maskCSRF returns base64url(pad ‖ pad⊕token) with a random pad.
func maskCSRF(token string) string {
	if token == "" {
		return ""
	}
	b := make([]byte, 2*len(token))
	rand.Read(b[:len(token)]) //nolint:errcheck // crypto/rand never fails
	for i := range len(token) {
		b[len(token)+i] = b[i] ^ token[i]
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// unmaskCSRF undoes maskCSRF. A value that is not a masked token is
// returned as it is, and fails the comparison (checkCSRF also accepts the
// plain token, which no page shows).
func unmaskCSRF(v string) string {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) == 0 || len(b)%2 != 0 {
		return v
	}
	n := len(b) / 2
	out := make([]byte, n)
	for i := range n {
		out[i] = b[i] ^ b[n+i]
	}
	return string(out)
}
