package app

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With the default limits, an attacker hammering an account is throttled
// but cannot lock its owner out: the right password still gets in from
// another address, and — once many addresses have shut unknown browsers out
// of the account — from a browser that signed in to it before.
func TestLoginAttackerCannotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", "admin", true)
	signIn := func(b *browser, password, ip string) *response {
		t.Helper()
		b.get("/login")
		return b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {password}}, "X-Forwarded-For", ip)
	}

	// Ada's laptop has signed in before (and signed out since).
	laptop := e.browser()
	require.Equal(t, http.StatusSeeOther, signIn(laptop, "correct horse", "198.51.100.1").StatusCode)
	laptop.get("/account")
	require.Equal(t, http.StatusSeeOther, laptop.post("/logout", nil).StatusCode)

	// One address guessing is throttled, whatever it sends next.
	attacker := e.browser()
	for range 5 {
		require.Equal(t, http.StatusUnprocessableEntity, signIn(attacker, "guess", "203.0.113.1").StatusCode)
	}
	res := signIn(attacker, "correct horse", "203.0.113.1")
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))

	// Ada, from a new browser somewhere else, gets in.
	require.Equal(t, http.StatusSeeOther, signIn(e.browser(), "correct horse", "198.51.100.2").StatusCode)

	// A distributed attack: fifty failures from fifty addresses.
	for i := range 50 {
		require.NoError(t, e.db.Exec("INSERT INTO login_failures (email, ip) VALUES ('ada@example.com', ?)", fmt.Sprintf("192.0.2.%d", i)).Error)
	}
	res = signIn(e.browser(), "correct horse", "198.51.100.3")
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "unknown browsers are shut out of the account")
	assert.Contains(t, res.text(".alert-error"), "Sign in from a browser you have used before")
	require.Equal(t, http.StatusSeeOther, signIn(laptop, "correct horse", "198.51.100.4").StatusCode, "the known laptop gets in")
}
