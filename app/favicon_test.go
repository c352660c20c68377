package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Every layout links Parley's icon, which is served, and the browsers'
// default /favicon.ico is answered too: no page logs a 404 for it.
func TestFaviconServedAndLinked(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	res := b.get("/favicon.ico")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "image/svg+xml", res.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(res.body, "<svg"))

	pages := map[string]*response{"login": b.get("/login")}
	b.login("ada@example.com")
	pages["desk"] = b.get("/inbox")
	pages["jobs"] = b.get("/admin/jobs")
	pages["widget frame"] = e.browser().get("/widget/frame")
	pages["demo"] = e.browser().get("/demo")
	for name, page := range pages {
		require.Equal(t, http.StatusOK, page.StatusCode, name)
		href, ok := page.doc.Find(`link[rel="icon"][href="` + views.AssetURL("favicon.svg") + `"]`).Attr("href")
		require.True(t, ok, "%s links the icon", name)
		icon := b.get(href)
		assert.Equal(t, http.StatusOK, icon.StatusCode, name)
		assert.Equal(t, "image/svg+xml", icon.Header.Get("Content-Type"), name)
	}
}
