package app

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/labstack/echo/v4"
)

// Pages and htmx fragments are compressed by render, which holds the whole
// body: brotli (quality 2) or gzip (level 6) as the client prefers, when the
// body is at least minCompressHTML bytes (below that the saving does not pay
// for the work: a response that fits in a packet or two). Nothing else is
// compressed on the way out: the SSE streams (app/live/stream.go writes to
// the connection itself, event by event) and file downloads (files.go:
// ranges, and formats mostly already compressed) never pass through render.
// The CSRF token pages carry is masked per response (csrf.go), against
// BREACH.
const minCompressHTML = 1024

var (
	gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}
	// Quality 2, not 4: on a conversation page (30-54 KB of HTML), 0.34-0.37
	// ms against 0.84-1.29 ms per response on this machine's cores, for
	// 4-6% more bytes (5,540 against 5,216 for a click's region); quality 4
	// was a sixth of an open's CPU. 1 would halve it again for 12-18% more.
	brotliWriters = sync.Pool{New: func() any { return brotli.NewWriterLevel(nil, 2) }}
)

// resettableWriter is what both pools hold (*gzip.Writer, *brotli.Writer).
type resettableWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// writeHTML sends an HTML body with status, compressed when it pays and the
// client accepts it.
func writeHTML(c echo.Context, status int, body []byte) error {
	h := c.Response().Header()
	h.Add("Vary", "Accept-Encoding")
	if len(body) < minCompressHTML || status == http.StatusNoContent || status == http.StatusNotModified {
		return c.HTMLBlob(status, body)
	}
	coding := acceptEncoding(c.Request().Header.Get("Accept-Encoding"), true, true)
	var writers *sync.Pool
	switch coding {
	case "br":
		writers = &brotliWriters
	case "gzip":
		writers = &gzipWriters
	default:
		return c.HTMLBlob(status, body)
	}
	var buf bytes.Buffer
	w := writers.Get().(resettableWriter)
	w.Reset(&buf)
	w.Write(body) //nolint:errcheck // writes to memory
	w.Close()
	writers.Put(w)
	h.Set("Content-Encoding", coding)
	return c.HTMLBlob(status, buf.Bytes())
}
