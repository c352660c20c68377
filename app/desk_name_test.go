package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// A desk not named yet is called "Support" in the reader's language (it was
// the English word in every language: "widget de chat de Support"); a named
// desk keeps its name.
func TestDefaultDeskNameIsTranslated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for lang, want := range map[string]string{"pt-BR": "Suporte", "en": "Support", "fr": "Support"} {
		b := e.browser()
		res := b.get("/widget/frame", "Accept-Language", lang)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, want, strings.TrimSpace(res.text("#w-title")), lang)
		assert.Equal(t, want, strings.TrimSpace(res.text("title")), lang)
	}
	demo := e.browser().get("/demo", "Accept-Language", "pt-BR")
	require.Equal(t, http.StatusOK, demo.StatusCode)
	assert.Contains(t, demo.body, "widget de chat de Suporte")
	assert.NotContains(t, demo.body, "de Support")

	// The admin form offers the name in the admin's language.
	e.user("Ana", "ana@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.login("ana@example.com")
	res := b.get("/admin/widget", "Accept-Language", "pt-BR")
	assert.Equal(t, "Suporte", res.doc.Find("#f-desk_name").AttrOr("value", ""))
}
