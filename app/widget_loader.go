package app

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/static"
	"github.com/parleydesk/parley/views"
)

// loaderScript is the loader as served: static/widget.js with the URL of its
// stylesheet filled in (content-hashed, so the stylesheet is cached for
// good while the loader itself is cached for minutes), and its gzip form.
type loaderScript struct {
	plain, gz []byte
	etag      string
}

var (
	loaderOnce sync.Once
	loader     loaderScript
	loaderErr  error
)

// loaderCSSPlaceholder is replaced by the loader stylesheet's URL path.
const loaderCSSPlaceholder = "__PARLEY_LOADER_CSS__"

func buildLoader() (loaderScript, error) {
	src, err := fs.ReadFile(static.Files, "widget.js")
	if err != nil {
		return loaderScript{}, err
	}
	plain := []byte(strings.Replace(string(src), loaderCSSPlaceholder, views.AssetURL("widget-loader.css"), 1))
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(plain) //nolint:errcheck // writes to memory
	zw.Close()
	sum := sha256.Sum256(plain)
	return loaderScript{plain: plain, gz: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}, nil
}

// serveWidgetLoader serves the loader script host pages embed. It is cached
// briefly (an upgrade reaches every site within minutes) and revalidated
// with its ETag.
func (a *App) serveWidgetLoader(c echo.Context) error {
	loaderOnce.Do(func() { loader, loaderErr = buildLoader() })
	if loaderErr != nil {
		return loaderErr
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", loader.etag)
	h.Add("Vary", "Accept-Encoding")
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, loader.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if strings.Contains(c.Request().Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", loader.gz)
	}
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", loader.plain)
}

// widgetTheme serves the brand colour as a stylesheet (the frame's CSP
// allows no inline styles). The current colour's versioned URL is immutable.
func (a *App) widgetTheme(c echo.Context) error {
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	if c.QueryParam("v") == themeVersion(s.BrandColor) {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(themeCSS(s.BrandColor)))
}
