package app

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/static"
)

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
