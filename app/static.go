package app

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/labstack/echo/v4"
	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/js"

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

// Cache lifetimes: a content-hashed name never changes meaning, so it is
// cached for a year without revalidation; anything else (plain names, the
// older ?v= links, a hash of another build) for five minutes.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheShort     = "public, max-age=300"
)

// asset is a static file as served: its bytes, their gzip and brotli forms
// (nil when compressing does not pay), content type and ETag. The
// compressed forms are made once, on the first request that can use them
// (compress), and kept for the life of the process.
type asset struct {
	plain []byte
	ctype string
	etag  string
	hash  string // the content hash in the file's hashed name (of its source)

	once   sync.Once
	gz, br []byte
}

// newAsset describes an embedded file; nothing is compressed yet.
func newAsset(name string, plain []byte) *asset {
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = http.DetectContentType(plain)
	}
	sum := sha256.Sum256(plain)
	return &asset{plain: plain, ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// compress makes the gzip (best compression) and brotli (quality 11) forms
// of a text asset, once. Measured here: all of static/ (556 KB) takes 1.3 s
// of brotli 11 but the desk's largest file (app.css, 61 KB) about 0.1 s, so
// each file is compressed when first asked for, not at start-up.
func (s *asset) compress() {
	s.once.Do(func() {
		if !compressible(s.ctype) {
			return
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(s.plain) //nolint:errcheck // writes to memory
		zw.Close()
		if gz.Len() < len(s.plain) {
			s.gz = gz.Bytes()
		}
		var br bytes.Buffer
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		bw.Write(s.plain) //nolint:errcheck // writes to memory
		bw.Close()
		if br.Len() < len(s.plain) {
			s.br = br.Bytes()
		}
	})
}

func compressible(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return strings.HasPrefix(mt, "text/") || mt == "application/javascript" || mt == "image/svg+xml" || mt == "application/json"
}

// serve writes the asset, brotli- or gzip-compressed as the client prefers
// (acceptEncoding), answering a matching If-None-Match with 304.
func (s *asset) serve(c echo.Context) error {
	h := c.Response().Header()
	h.Set("ETag", s.etag)
	h.Add("Vary", "Accept-Encoding")
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, s.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if !compressible(s.ctype) {
		return c.Blob(http.StatusOK, s.ctype, s.plain)
	}
	s.compress()
	switch acceptEncoding(c.Request().Header.Get("Accept-Encoding"), s.br != nil, s.gz != nil) {
	case "br":
		h.Set("Content-Encoding", "br")
		return c.Blob(http.StatusOK, s.ctype, s.br)
	case "gzip":
		h.Set("Content-Encoding", "gzip")
		return c.Blob(http.StatusOK, s.ctype, s.gz)
	}
	return c.Blob(http.StatusOK, s.ctype, s.plain)
}

// acceptEncoding reads an Accept-Encoding header (RFC 9110 12.5.3) and
// returns the coding to send: "br" or "gzip" among those offered (br, gz),
// the one with the higher q-value, brotli on a tie (it is smaller); "*"
// stands for a coding not listed; q=0 refuses. "" means send it as it is.
func acceptEncoding(header string, br, gz bool) string {
	qBr, qGz, qAny := -1.0, -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0 // a malformed weight: not acceptable
				}
				q = f
			}
		}
		switch coding {
		case "br":
			qBr = q
		case "gzip":
			qGz = q
		case "*":
			qAny = q
		}
	}
	if qBr < 0 {
		qBr = qAny
	}
	if qGz < 0 {
		qGz = qAny
	}
	if !br {
		qBr = -1
	}
	if !gz {
		qGz = -1
	}
	switch {
	case qBr > 0 && qBr >= qGz:
		return "br"
	case qGz > 0:
		return "gzip"
	}
	return ""
}

// assets holds the static files served so far, by name.
var assets sync.Map

// loadAsset returns the embedded file name, read once.
func loadAsset(name string) (*asset, bool) {
	if v, ok := assets.Load(name); ok {
		return v.(*asset), true
	}
	if strings.HasSuffix(name, ".go") {
		return nil, false
	}
	b, err := fs.ReadFile(static.Files, name)
	if err != nil {
		return nil, false
	}
	sum := sha256.Sum256(b) // before minifying, which may reuse b
	a := newAsset(name, minified(name, b))
	a.hash = hex.EncodeToString(sum[:6]) // the source's, as in views.AssetURL
	v, _ := assets.LoadOrStore(name, a)
	return v.(*asset), true
}

// minifier strips comments and white space from Parley's own stylesheets
// and scripts (the vendored files under vendor/ come minified or are left
// as their authors ship them). Measured here: all of static/ in 26 ms, the
// desk's first load from 169 to 125 KB before compression. It runs once
// per file, when the file is first asked for; the content hash in the URL
// is the source's, which identifies the output as well.
var minifier = func() *minify.M {
	m := minify.New()
	m.AddFunc("text/css", css.Minify)
	m.AddFunc("text/javascript", js.Minify)
	return m
}()

// minified returns a static file as served: minified where that applies,
// unchanged when the minifier fails (the file still works as written).
func minified(name string, b []byte) []byte {
	if strings.HasPrefix(name, "vendor/") {
		return b
	}
	var mt string
	switch path.Ext(name) {
	case ".css":
		mt = "text/css"
	case ".js":
		mt = "text/javascript"
	default:
		return b
	}
	src := bytes.Clone(b) // the minifier's parser may write into its input
	out, err := minifier.Bytes(mt, src)
	if err != nil || len(out) >= len(b) {
		return b
	}
	return out
}

// hashedName is a file name with its content hash before the extension:
// app.3f2a9c1b4d5e.css, vendor/rrweb-record-2.1.6.min.0a1b2c3d4e5f.js.
var hashedName = regexp.MustCompile(`^(.+)\.([0-9a-f]{12})(\.[A-Za-z0-9]+)$`)

// withHash names a file by its content: views.AssetURL's form.
func withHash(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// serveStatic serves the embedded assets, compressed where the client takes
// it. A content-hashed name (views.AssetURL) is immutable; the plain name,
// the older ?v=<hash> links and a hashed name from another build still
// answer (with the current file) but are cached briefly.
func (a *App) serveStatic(c echo.Context) error {
	name := path.Clean(strings.TrimPrefix(c.Param("*"), "/"))
	cache := cacheShort
	s, ok := loadAsset(name)
	if !ok {
		m := hashedName.FindStringSubmatch(name)
		if m == nil {
			return echo.ErrNotFound
		}
		if s, ok = loadAsset(m[1] + m[3]); !ok {
			return echo.ErrNotFound
		}
		if m[2] == s.hash {
			cache = cacheImmutable
		}
	}
	c.Response().Header().Set("Cache-Control", cache)
	return s.serve(c)
}
