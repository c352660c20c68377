package app

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/static"
	"github.com/parleydesk/parley/views"
)

// loader is the loader script as served: static/widget.js with the URLs of
// its stylesheet and of rrweb's recorder (content-hashed, so they are cached
// for good while the loader itself is cached for minutes) and the launcher's
// configuration filled in. It is built again when that configuration
// changes, and compressed once per build.
var (
	loaderMu     sync.Mutex
	loader       *asset
	loaderConfig string
)

// loaderCSSPlaceholder is replaced by the loader stylesheet's URL path.
const loaderCSSPlaceholder = "__PARLEY_LOADER_CSS__"

// recorderPlaceholder is replaced by the URL path of rrweb's recorder, which
// the loader fetches only once the customer allowed co-browsing.
const recorderPlaceholder = "__PARLEY_RRWEB_RECORD__"

// configPlaceholder is replaced by the launcher's configuration (a JSON
// object): what the host page shows before the frame exists.
const configPlaceholder = "__PARLEY_CONFIG__"

// loaderLabels are the launcher's texts in one language.
type loaderLabels struct {
	Open  string `json:"open"`
	Close string `json:"close"`
	Title string `json:"title"`
}

// launcherConfig is what the loader needs to show the launcher without the
// frame: the sites allowed to embed it (the frame's frame-ancestors, which
// anyone can read in its CSP), the brand colours, and the labels in every
// language the widget speaks (the frame sends the same once it loads).
func launcherConfig(ctx context.Context, s *models.DeskSettings) (string, error) {
	labels := map[string]loaderLabels{}
	for _, lang := range models.Languages {
		lctx := views.WithLanguage(ctx, lang)
		name := views.DeskName(lctx, s)
		labels[lang] = loaderLabels{
			Open:  views.T(lctx, "widget.open", map[string]any{"Desk": name}),
			Close: views.T(lctx, "widget.close"),
			Title: name,
		}
	}
	origins := []string{}
	for _, o := range s.AllowedOrigins {
		if !strings.ContainsAny(o, " ;,'\"\r\n") { // as frameCSP
			origins = append(origins, o)
		}
	}
	b, err := json.Marshal(map[string]any{"origins": origins, "color": s.BrandColor, "ink": views.BrandInk(s.BrandColor), "labels": labels})
	return string(b), err
}

// loaderFor returns the loader built for this configuration.
func loaderFor(config string) (*asset, error) {
	loaderMu.Lock()
	defer loaderMu.Unlock()
	if loader != nil && loaderConfig == config {
		return loader, nil
	}
	src, err := fs.ReadFile(static.Files, "widget.js")
	if err != nil {
		return nil, err
	}
	s := strings.Replace(trimLoader(string(src)), loaderCSSPlaceholder, views.AssetURL("widget-loader.css"), 1)
	s = strings.Replace(s, recorderPlaceholder, views.AssetURL("vendor/rrweb-record-2.1.6.min.js"), 1)
	s = strings.Replace(s, configPlaceholder, config, 1)
	a := newAsset("widget.js", minified("widget.js", []byte(s)))
	a.ctype = "text/javascript; charset=utf-8"
	loader, loaderConfig = a, config
	return a, nil
}

// trimLoader drops the loader's documentation, which every host page would
// otherwise download: the header comment (a one-line banner stays) and the
// lines that are only a // comment (widget.js has no multi-line strings,
// so such a line is always a comment).
func trimLoader(src string) string {
	if strings.HasPrefix(src, "/*!") {
		if i := strings.Index(src, "*/"); i >= 0 {
			src = "/*! Parley chat widget loader; documented in Parley's static/widget.js */" + src[i+2:]
		}
	}
	var b strings.Builder
	for line := range strings.SplitAfterSeq(src, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "//") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// serveWidgetLoader serves the loader script host pages embed. It is cached
// briefly (an upgrade or a settings change reaches every site within
// minutes) and revalidated with its ETag.
func (a *App) serveWidgetLoader(c echo.Context) error {
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	config, err := launcherConfig(c.Request().Context(), s)
	if err != nil {
		return err
	}
	l, err := loaderFor(config)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", cacheShort)
	return l.serve(c)
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
