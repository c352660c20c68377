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
	"strconv"
	"strings"
	"sync"

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

// asset is a static file as served: its bytes, their gzip form (nil when
// compressing does not pay), content type and ETag.
type asset struct {
	plain, gz []byte
	ctype     string
	etag      string
}

// newAsset compresses text types once; embedded files never change, so
// the result is kept for the life of the process.
func newAsset(name string, plain []byte) *asset {
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = http.DetectContentType(plain)
	}
	sum := sha256.Sum256(plain)
	a := &asset{plain: plain, ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	if compressible(ct) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(plain) //nolint:errcheck // writes to memory
		zw.Close()
		if buf.Len() < len(plain) {
			a.gz = buf.Bytes()
		}
	}
	return a
}

func compressible(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return strings.HasPrefix(mt, "text/") || mt == "application/javascript" || mt == "image/svg+xml" || mt == "application/json"
}

// serve writes the asset, gzipped for clients that accept it, answering
// a matching If-None-Match with 304.
func (s *asset) serve(c echo.Context) error {
	h := c.Response().Header()
	h.Set("ETag", s.etag)
	h.Add("Vary", "Accept-Encoding")
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, s.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if s.gz != nil && acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		return c.Blob(http.StatusOK, s.ctype, s.gz)
	}
	return c.Blob(http.StatusOK, s.ctype, s.plain)
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) listed without
// q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

// assets holds the static files served so far, by name.
var assets sync.Map

// serveStatic serves the embedded assets, gzipped where the client takes
// it. Versioned URLs (?v=hash) are immutable; others revalidate.
func (a *App) serveStatic(c echo.Context) error {
	name := path.Clean(strings.TrimPrefix(c.Param("*"), "/"))
	if strings.HasSuffix(name, ".go") {
		return echo.ErrNotFound
	}
	v, ok := assets.Load(name)
	if !ok {
		b, err := fs.ReadFile(static.Files, name)
		if err != nil {
			return echo.ErrNotFound
		}
		v, _ = assets.LoadOrStore(name, newAsset(name, b))
	}
	h := c.Response().Header()
	if c.QueryParam("v") != "" {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	return v.(*asset).serve(c)
}
