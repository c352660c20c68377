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

// A user chooses the text size of conversations and the composer and the
// browser's spell-check there; bad sizes are refused beside the field, and
// the form needs the CSRF token.
func TestComposerPrefs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla", "hello")
	b := e.browser()
	b.login("sue@example.com")

	// The defaults: normal size, spell-check on.
	res := b.get("/account")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 1, res.doc.Find(`#composer-prefs input[name=font_size][value=normal][checked]`).Length())
	assert.Equal(t, 1, res.doc.Find(`#composer-prefs input[name=spellcheck][checked]`).Length())
	res = b.get("/conversations/" + conv.PublicID)
	assert.Equal(t, "shell", res.doc.Find(".shell").AttrOr("class", ""))
	assert.Equal(t, "true", res.doc.Find("#f-body").AttrOr("spellcheck", ""))

	// Bad input: nothing stored, the message beside the field.
	for _, size := range []string{"", "huge", "LARGE", "large "} {
		res = b.post("/account/composer", url.Values{"font_size": {size}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, size)
		assert.Equal(t, "Choose small, normal or large.", res.text("#composer-prefs #e-font_size"), size)
		assert.Equal(t, 1, res.doc.Find("#composer-prefs .has-error").Length())
	}
	res = b.post("/account/composer", url.Values{"font_size": {"huge"}}, "Accept-Language", "fr")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res = b.post("/account/composer", url.Values{"font_size": {"large"}, "_csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res = b.post("/account/composer", url.Values{"font_size": {"large"}, "_csrf": {""}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	u, err := models.FindUser(context.Background(), e.db, sue.ID)
	require.NoError(t, err)
	assert.Equal(t, "normal", u.FontSize, "nothing stored")
	assert.True(t, u.Spellcheck)

	// Large, spell-check off: the desk shell and the composer follow.
	res = b.post("/account/composer", url.Values{"font_size": {"large"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	res = b.get("/account")
	assert.Equal(t, 1, res.doc.Find(`#composer-prefs input[name=font_size][value=large][checked]`).Length())
	assert.Zero(t, res.doc.Find(`#composer-prefs input[name=spellcheck][checked]`).Length())
	res = b.get("/conversations/" + conv.PublicID)
	assert.Equal(t, "shell fs-large", res.doc.Find(".shell").AttrOr("class", ""))
	assert.Equal(t, "false", res.doc.Find("#f-body").AttrOr("spellcheck", ""))
	res = b.post("/account/composer", url.Values{"font_size": {"small"}, "spellcheck": {"on"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = b.get("/conversations/" + conv.PublicID)
	assert.Equal(t, "shell fs-small", res.doc.Find(".shell").AttrOr("class", ""))
	assert.Equal(t, "true", res.doc.Find("#f-body").AttrOr("spellcheck", ""))
}
