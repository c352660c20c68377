package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a templ component with status. The component renders into a
// buffer first, so a template error still becomes a proper error page rather
// than half a page. Layouts render a fragment for htmx requests themselves.
func (a *App) render(c echo.Context, status int, comp templ.Component) error {
	if err := a.loadDeskNav(c); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	h := c.Response().Header()
	h.Add("Vary", "HX-Request")
	h.Set("Cache-Control", "no-store")
	if c.Request().Method == http.MethodGet && c.Request().Header.Get("HX-Boosted") == "true" {
		// Boosted navigation follows redirects inside the XHR; tell htmx the
		// final address so the location bar and history are right.
		h.Set("HX-Push-Url", c.Request().URL.RequestURI())
	}
	return writeHTML(c, status, buf.Bytes())
}

// assetURLs returns a function that maps an asset name to its
// content-hashed URL (/static/app.3f2a9c1b4d5e.css), so assets can be cached
// for a year yet change on upgrade. It is views.AssetURL: the one place
// asset URLs are made.
func assetURLs(files fs.FS) func(string) string {
	urls := map[string]string{}
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error { //nolint:errcheck // embedded FS walk cannot fail
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := fs.ReadFile(files, p)
		sum := sha256.Sum256(b)
		urls[p] = "/static/" + withHash(p, hex.EncodeToString(sum[:6]))
		return nil
	})
	return func(name string) string {
		if u, ok := urls[name]; ok {
			return u
		}
		return "/static/" + name
	}
}
