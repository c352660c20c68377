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
// body: brotli (quality 1) or gzip (level 1) as the client prefers, when the
// body is at least minCompressHTML bytes (below that the saving does not pay
// for the work: a response that fits in a packet or two). Nothing else is
// compressed on the way out: the SSE streams (app/live/stream.go writes to
// the connection itself, event by event) and file downloads (files.go:
// ranges, and formats mostly already compressed) never pass through render.
// The CSRF token pages carry is masked per response (csrf.go), against
// BREACH.
const minCompressHTML = 1024

// The fastest levels, as nginx's default (gzip_comp_level 1) for what is
// made per request: on a click's region of a conversation (38 KB of HTML),
// brotli 1 takes 0.13 ms for 7.4 KB where 2 took 0.26 ms for 6.7 KB (in
// the open benchmark, at c=10, 16-18 % of the server's CPU), and gzip 1
// 0.09 ms for 7.7 KB where 6 took 0.42 ms for 6.5 KB. Static files are
// compressed once, at their best (static.go).
var (
	gzipWriters   = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}
	brotliWriters = sync.Pool{New: func() any { return brotli.NewWriterLevel(nil, 1) }}
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
