package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/static"
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
	return c.HTMLBlob(status, buf.Bytes())
}

// assetURLs returns a function that maps an asset name to its URL with a
// content hash, so assets can be cached for a year yet change on upgrade.
func assetURLs(files fs.FS) func(string) string {
	hashes := map[string]string{}
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error { //nolint:errcheck // embedded FS walk cannot fail
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := fs.ReadFile(files, p)
		sum := sha256.Sum256(b)
		hashes[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return func(name string) string {
		if h, ok := hashes[name]; ok {
			return "/static/" + name + "?v=" + h
		}
		return "/static/" + name
	}
}

// serveFavicon answers the browsers' default /favicon.ico with Parley's icon.
func (a *App) serveFavicon(c echo.Context) error {
	b, err := fs.ReadFile(static.Files, "favicon.svg")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, "image/svg+xml", b)
}

// serveStatic serves the embedded assets. Versioned URLs (?v=hash) are
// immutable; others revalidate.
func (a *App) serveStatic(c echo.Context) error {
	name := path.Clean(strings.TrimPrefix(c.Param("*"), "/"))
	if strings.HasSuffix(name, ".go") {
		return echo.ErrNotFound
	}
	b, err := fs.ReadFile(static.Files, name)
	if err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	if c.QueryParam("v") != "" {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = http.DetectContentType(b)
	}
	return c.Blob(http.StatusOK, ct, b)
}
