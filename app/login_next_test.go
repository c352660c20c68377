package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// hostileNext are post-login destinations that lead (or may lead, once a
// browser or another decoder has read them) to another site.
var hostileNext = []string{
	"https://evil.example", "http:evil.example", "javascript:alert(1)", "data:text/html,x", "evil.example",
	"//evil.example", "///evil.example", "/\\evil.example", "\\/evil.example", "\\\\evil.example",
	"/\t/evil.example", "/\r/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
	" //evil.example", "/%09/evil.example", "/%0d%0a/evil.example", "/%2F/evil.example", "/%2f%2fevil.example",
	"%2F%2Fevil.example", "/%5Cevil.example", "/%5cevil.example", "/%252F%252Fevil.example", "/%25252F/evil.example",
	"/%00/evil.example", "/\x00/evil.example", "/\x7f/evil.example", "/caf\xe9", "",
}

func TestSafeNextRefusesOtherSites(t *testing.T) {
	t.Parallel()
	for _, next := range hostileNext {
		assert.Equal(t, "/", safeNext(next), "%q", next)
	}
	for _, next := range []string{"/", "/account", "/inbox?status=closed&filter=mine", "/conversations/5f0c?x=%2F%2F",
		"/tickets?q=caf%C3%A9", "/tickets?q=100%25", "/notifications#top", "/tasks/12"} {
		assert.Equal(t, next, safeNext(next), "%q", next)
	}
}

// The sign-in flow: a hostile next lands on the home page, in the form's
// hidden field, after signing in, and when already signed in.
func TestLoginNextStaysOnSite(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	for _, next := range hostileNext {
		b := e.browser()
		res := b.get("/login?next=" + url.QueryEscape(next))
		if res.StatusCode == http.StatusOK { // (a next that is not text is a 400)
			v, _ := res.doc.Find(`form input[name="next"]`).Attr("value")
			assert.Equal(t, "/", v, "%q", next)
		}
		if !isText(next) {
			continue
		}
		res = b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {next}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, "%q", next)
		assert.Equal(t, "/", res.Header.Get("Location"), "%q", next)
		res = b.get("/login?next=" + url.QueryEscape(next))
		require.Equal(t, http.StatusSeeOther, res.StatusCode, "%q", next)
		assert.Equal(t, "/", res.Header.Get("Location"), "%q", next)
	}
	// The address, as typed.
	b := e.browser()
	b.get("/login")
	res := b.post("/login?next=/%09/evil.example", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {"/\t/evil.example"}})
	assert.Equal(t, "/", res.Header.Get("Location"))
	assert.False(t, strings.HasPrefix(res.Header.Get("Location"), "//"))
	// A real destination survives.
	b = e.browser()
	b.get("/login")
	res = b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {"/tickets?status=open"}})
	assert.Equal(t, "/tickets?status=open", res.Header.Get("Location"))
}
