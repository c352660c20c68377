package app

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// A wildcard or malformed allowed site is refused with a 422 beside the
// field, the form kept and nothing stored.
func TestAllowedSitesRefuseWildcardsAndMalformed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.login("ada@example.com")
	for _, bad := range []string{"https://*", "https://*.example.com", "https://exa_mple.com", "https://example.com:99999", "https://example.com?x"} {
		text := "https://ok.example\n" + bad
		res := b.post("/admin/widget", url.Values{"desk_name": {"Acme"}, "brand_color": {"#2563eb"}, "allowed_origins": {text}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, bad)
		assert.Contains(t, res.text("#e-allowed_origins"), `"`+bad+`" is not a site address`, bad)
		assert.Equal(t, "true", res.doc.Find("#f-allowed_origins").AttrOr("aria-invalid", ""), bad)
		assert.Equal(t, text, res.doc.Find("#f-allowed_origins").Text(), bad)
	}
	s, err := models.GetSettings(context.Background(), e.db)
	require.NoError(t, err)
	assert.Empty(t, s.AllowedOrigins)
}
