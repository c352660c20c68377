package app

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func countUsers(t *testing.T, e *testEnv) int64 {
	var n int64
	require.NoError(t, e.db.Model(&models.User{}).Count(&n).Error)
	return n
}

func TestSetupOnceOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()

	res := b.get("/")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/setup", res.Header.Get("Location"))
	res = b.get("/login")
	require.Equal(t, "/setup", res.Header.Get("Location"), "sign-in waits for setup")

	res = b.get("/setup")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, 1, res.doc.Find(`form[action="/setup"] input[name="_csrf"]`).Length())

	res = b.post("/setup", url.Values{"name": {"Ada Admin"}, "email": {"Ada@Example.com"}, "password": {"correct horse"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	require.Equal(t, "/admin/agents", res.Header.Get("Location"))

	// The new admin is signed in and welcomed.
	res = b.get("/admin/agents")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.text("#toasts"), "Welcome to Parley, Ada Admin!")
	assert.Contains(t, res.text("#agents"), "ada@example.com", "email stored lower-cased")

	// The page is gone for everyone, signed in or not, and cannot be replayed.
	res = b.get("/setup")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	other := e.browser()
	require.Equal(t, http.StatusNotFound, other.get("/setup").StatusCode)
	res = other.post("/setup", url.Values{"name": {"Eve"}, "email": {"eve@example.com"}, "password": {"correct horse"}})
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.EqualValues(t, 1, countUsers(t, e))
}

func TestSetupConcurrentRequestsCreateOneAdmin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			_, err := models.CreateFirstAdmin(context.Background(), e.db, models.UserInput{
				Name: "Admin", Email: "admin" + string(rune('a'+i)) + "@example.com", Password: "correct horse",
			})
			errs <- err
		}()
	}
	ok := 0
	for range 4 {
		if err := <-errs; err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, models.ErrSetupDone)
		}
	}
	require.Equal(t, 1, ok)
	require.EqualValues(t, 1, countUsers(t, e))
}

func TestSetupBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	b.get("/setup")
	cases := []struct {
		name   string
		values url.Values
		field  string
		msg    string
	}{
		{"empty password", url.Values{"name": {"Ada"}, "email": {"ada@example.com"}, "password": {""}}, "password", "Enter a password."},
		{"short password", url.Values{"name": {"Ada"}, "email": {"ada@example.com"}, "password": {"short"}}, "password", "Use at least 8 characters."},
		{"bad email", url.Values{"name": {"Ada"}, "email": {"not-an-email"}, "password": {"correct horse"}}, "email", "Enter a valid email address"},
		{"no name", url.Values{"name": {"  "}, "email": {"ada@example.com"}, "password": {"correct horse"}}, "name", "Enter a name."},
	}
	for _, tc := range cases {
		res := b.post("/setup", tc.values)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.name)
		field := res.doc.Find("#f-" + tc.field).Parent()
		assert.True(t, field.HasClass("has-error"), tc.name)
		assert.Contains(t, field.Find(".field-error").Text(), tc.msg, tc.name)
		if tc.field != "email" {
			v, _ := res.doc.Find("#f-email").Attr("value")
			assert.Equal(t, "ada@example.com", v, "%s: typed values come back", tc.name)
		}
		assert.Empty(t, res.doc.Find(`#f-password`).AttrOr("value", ""), "passwords are never echoed")
	}
	require.EqualValues(t, 0, countUsers(t, e))
}

func TestLoginLogout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()

	res := b.get("/account")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/login?m=required&next=%2Faccount", res.Header.Get("Location"))

	res = b.get("/login?m=required&next=%2Faccount")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.text(".alert-info"), "Please sign in")

	res = b.post("/login", url.Values{"email": {"ADA@example.com"}, "password": {"correct horse"}, "next": {"/account"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	require.Equal(t, "/account", res.Header.Get("Location"))
	var sessionCookieSeen *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			sessionCookieSeen = c
		}
	}
	require.NotNil(t, sessionCookieSeen)
	assert.True(t, sessionCookieSeen.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, sessionCookieSeen.SameSite)

	res = b.get("/account")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.text(".user-menu"), "Ada")

	res = b.post("/logout", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/login?m=signed_out", res.Header.Get("Location"))
	var n int64
	require.NoError(t, e.db.Model(&models.Session{}).Count(&n).Error)
	require.Zero(t, n, "sign-out deletes the session")
	require.Equal(t, http.StatusSeeOther, b.get("/account").StatusCode)
}

func TestLoginOpenRedirectRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	for _, next := range []string{"https://evil.example", "//evil.example", "/\\evil.example"} {
		b := e.browser()
		b.get("/login")
		res := b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {next}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, "/", res.Header.Get("Location"), next)
	}
}

func TestLoginWrongPasswordAndUnknownEmailLookAlike(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.get("/login")
	wrong := b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong password"}})
	unknown := b.post("/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password"}})
	for _, res := range []*response{wrong, unknown} {
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.Equal(t, "Wrong email or password.", res.text(".alert-error"))
		assert.Empty(t, res.Cookies(), "no session cookie")
	}
	v, _ := wrong.doc.Find("#f-email").Attr("value")
	assert.Equal(t, "ada@example.com", v)
}

func TestLoginRateLimitedPerAccountAndPerIP(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{loginLimits: &models.LoginLimits{Window: time.Minute, PerAccountIP: 3, PerIP: 5}})
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.get("/login")
	for range 3 {
		res := b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"nope nope"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	}
	// Even the right password is refused from this address while it is
	// limited for the account (TestLoginAttackerCannotLockTheOwnerOut: not
	// from elsewhere).
	res := b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}})
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Contains(t, res.text(".alert-error"), "Too many failed sign-in attempts. Try again in 1 minute.")
	assert.NotEmpty(t, res.Header.Get("Retry-After"))

	// Per address: failures spread over other emails add up.
	for i := range 2 {
		res := b.post("/login", url.Values{"email": {"x" + string(rune('a'+i)) + "@example.com"}, "password": {"nope nope"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	}
	res = b.post("/login", url.Values{"email": {"fresh@example.com"}, "password": {"nope nope"}})
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.login("ada@example.com")
	require.Equal(t, http.StatusOK, b.get("/account").StatusCode)

	require.NoError(t, e.db.Exec("UPDATE sessions SET expires_at = now() - interval '1 second'").Error)
	res := b.get("/account")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/login?m=expired&next=%2Faccount", res.Header.Get("Location"))
	res = b.get(res.Header.Get("Location"))
	assert.Equal(t, "Your session has expired. Please sign in again.", res.text(".alert-info"))
	var n int64
	require.NoError(t, e.db.Model(&models.Session{}).Count(&n).Error)
	require.Zero(t, n, "the expired session is deleted")
}

func TestDeactivatedUserCannotSignInAndIsSignedOut(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	agent := e.user("Bob", "bob@example.com", models.RoleAgent, true)
	bob := e.browser()
	bob.login("bob@example.com")
	require.Equal(t, http.StatusOK, bob.get("/account").StatusCode)

	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.DeactivateUser(context.Background(), tx, admin.ID, agent.ID) }))

	res := bob.get("/account")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "existing session ends at once")
	fresh := e.browser()
	fresh.get("/login")
	res = fresh.post("/login", url.Values{"email": {"bob@example.com"}, "password": {"correct horse"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Wrong email or password.", res.text(".alert-error"))

	require.NoError(t, models.ReactivateUser(context.Background(), e.db, agent.ID))
	fresh.login("bob@example.com")
}

func TestCSRFRejected(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.login("ada@example.com")
	good := b.csrf
	require.NotEmpty(t, good)

	for name, token := range map[string][]string{"missing": nil, "wrong": {"not-the-token"}, "empty": {""}} {
		values := url.Values{"name": {"Billing"}}
		values["_csrf"] = token
		res := b.post("/admin/teams", values)
		require.Equal(t, http.StatusForbidden, res.StatusCode, name)
		assert.Contains(t, res.body, "This form expired or was sent from another site", name)
	}
	// The anonymous token does not work once signed in: tokens are per session.
	anon := e.browser()
	anon.get("/login")
	res := b.post("/admin/teams", url.Values{"name": {"Billing"}, "_csrf": {anon.csrf}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	var n int64
	require.NoError(t, e.db.Model(&models.Team{}).Count(&n).Error)
	require.Zero(t, n, "nothing stored")

	// htmx sends the token as a header, and gets a toast on failure.
	res = b.post("/admin/teams", url.Values{"name": {"Billing"}, "_csrf": nil}, "X-CSRF-Token", good)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = b.post("/admin/teams", url.Values{"name": {"Sales"}, "_csrf": nil}, "HX-Request", "true")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Header.Get("HX-Trigger"), "This form expired")

	// Sign-in itself is protected (login CSRF).
	anon2 := e.browser()
	res = anon2.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "_csrf": {"forged"}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
}
