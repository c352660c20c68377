package app

import (
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/static"
	"github.com/parleydesk/parley/views"
)

// loader is the loader script as served: static/widget.js with the URL of
// its stylesheet filled in (content-hashed, so the stylesheet is cached for
// good while the loader itself is cached for minutes), gzipped once.
var (
	loaderOnce sync.Once
	loader     *asset
	loaderErr  error
)

// loaderCSSPlaceholder is replaced by the loader stylesheet's URL path.
const loaderCSSPlaceholder = "__PARLEY_LOADER_CSS__"

// recorderPlaceholder is replaced by the URL path of rrweb's recorder, which
// the loader fetches only once the customer allowed co-browsing.
const recorderPlaceholder = "__PARLEY_RRWEB_RECORD__"

func buildLoader() (*asset, error) {
	src, err := fs.ReadFile(static.Files, "widget.js")
	if err != nil {
		return nil, err
	}
	s := strings.Replace(string(src), loaderCSSPlaceholder, views.AssetURL("widget-loader.css"), 1)
	s = strings.Replace(s, recorderPlaceholder, views.AssetURL("vendor/rrweb-record-2.1.6.min.js"), 1)
	plain := []byte(s)
	a := newAsset("widget.js", plain)
	a.ctype = "text/javascript; charset=utf-8"
	return a, nil
}

// serveWidgetLoader serves the loader script host pages embed. It is cached
// briefly (an upgrade reaches every site within minutes) and revalidated
// with its ETag.
func (a *App) serveWidgetLoader(c echo.Context) error {
	loaderOnce.Do(func() { loader, loaderErr = buildLoader() })
	if loaderErr != nil {
		return loaderErr
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return loader.serve(c)
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
