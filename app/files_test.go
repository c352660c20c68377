package app

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/filetest"
	"github.com/parleydesk/parley/internal/wait"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/storage"
)

// Test files: a small PNG and PDF (their first bytes are what sniffing
// reads), and an EICAR test "virus".
var (
	pngFile = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"), bytes.Repeat([]byte{7}, 2000)...)
	pdfFile = append([]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), bytes.Repeat([]byte("% padding\n"), 300)...)
)

// s3Config is the environment of an instance storing files in S3.
func s3Config(c storage.S3Config) map[string]string {
	return map[string]string{"PARLEY_S3_ENDPOINT": c.Endpoint, "PARLEY_S3_BUCKET": c.Bucket,
		"PARLEY_S3_ACCESS_KEY": c.AccessKey, "PARLEY_S3_SECRET_KEY": c.SecretKey, "PARLEY_S3_REGION": c.Region}
}

// upload sends a file as the desk's files.js does: the raw body, the name
// in the query, the CSRF token in a header.
func (b *browser) upload(pid, name string, data []byte) *response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+"/conversations/"+pid+"/files?name="+url.QueryEscape(name), bytes.NewReader(data))
	require.NoError(b.e.t, err)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("HX-Request", "true")
	return b.do(req)
}

// upload sends a file as the widget's files.js does.
func (w *widgetClient) upload(pid, name string, data []byte) *response {
	w.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.e.srv.URL+"/widget/conversations/"+pid+"/files?name="+url.QueryEscape(name), bytes.NewReader(data))
	require.NoError(w.e.t, err)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(visitorHeader, w.token)
	req.Header.Set("HX-Request", "true")
	return w.b.do(req)
}

// chip is the pending upload's public id in an upload's answer.
func chip(t testing.TB, res *response) string {
	t.Helper()
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	id, ok := res.doc.Find("[data-chip]").Attr("data-chip")
	require.True(t, ok, res.body)
	return id
}

// fetch downloads a link with a client that has no cookie and no visitor
// header: the signed token alone must do.
func fetch(t testing.TB, e *testEnv, link string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(e.srv.URL + link)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

func countFiles(t testing.TB, e *testEnv) int64 {
	var n int64
	require.NoError(t, e.db.Model(&models.File{}).Count(&n).Error)
	return n
}

// storedObjects counts what the instance's store holds (local: files under
// the directory, temporary ones included; S3: objects).
func storedObjects(t testing.TB, e *testEnv) int {
	t.Helper()
	switch s := e.app.files.(type) {
	case *storage.S3:
		n, err := s.Count(context.Background())
		require.NoError(t, err)
		return n
	default:
		n := 0
		require.NoError(t, filepath.Walk(e.app.cfg.FilesDir, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				n++
			}
			return err
		}))
		return n
	}
}

// Files both ways, on local disk and in S3: the agent sends a PDF that the
// customer downloads through a signed link (same bytes, as an attachment,
// nosniff, sandboxed); the customer sends an image the desk shows as a
// thumbnail (inline) and downloads intact.
func TestFilesBothWays(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"local", "s3"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var o envOpts
			if kind == "s3" {
				o.config = s3Config(filetest.StartS3(t))
			}
			e := setup(t, o)
			e.user("Ada", "ada@example.com", models.RoleAgent, true)
			b := e.browser()
			b.login("ada@example.com")
			w := e.newVisitor()
			pid := w.start("Hello, here is my problem")

			// The agent attaches a PDF and sends it without text.
			page := b.get("/conversations/" + pid)
			require.Equal(t, 1, page.doc.Find("#composer [data-attach-bar] input[type=file][data-upload]").Length(), "the composer's attachment bar")
			id := chip(t, b.upload(pid, "guide.pdf", pdfFile))
			res := b.post("/conversations/"+pid+"/messages", url.Values{"body": {""}, "files": {id}}, "HX-Request", "true")
			require.Equal(t, http.StatusOK, res.StatusCode, res.body)

			thread := w.get("/widget/conversations/" + pid)
			card := thread.doc.Find(".w-file-pdf a.w-file-card")
			require.Equal(t, 1, card.Length(), thread.body)
			assert.Contains(t, card.Text(), "guide.pdf")
			link, _ := card.Attr("href")
			got, body := fetch(t, e, link)
			require.Equal(t, http.StatusOK, got.StatusCode)
			assert.Equal(t, pdfFile, body)
			assert.Equal(t, "application/pdf", got.Header.Get("Content-Type"))
			assert.Equal(t, `attachment; filename=guide.pdf`, got.Header.Get("Content-Disposition"))
			assert.Equal(t, "nosniff", got.Header.Get("X-Content-Type-Options"))
			assert.Contains(t, got.Header.Get("Content-Security-Policy"), "sandbox")
			// Inline is for images, audio and video only.
			got, _ = fetch(t, e, link+"&inline=1")
			assert.True(t, strings.HasPrefix(got.Header.Get("Content-Disposition"), "attachment"))

			// The customer sends a screenshot: a thumbnail in the desk.
			id = chip(t, w.upload(pid, "screen.png", pngFile))
			res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"see this"}, "files": {id}})
			require.Equal(t, http.StatusOK, res.StatusCode, res.body)
			page = b.get("/conversations/" + pid)
			img := page.doc.Find("img.file-thumb")
			require.Equal(t, 1, img.Length(), page.body)
			src, _ := img.Attr("src")
			got, body = fetch(t, e, src)
			require.Equal(t, http.StatusOK, got.StatusCode)
			assert.Equal(t, pngFile, body)
			assert.Equal(t, "image/png", got.Header.Get("Content-Type"))
			assert.True(t, strings.HasPrefix(got.Header.Get("Content-Disposition"), "inline"))
			// The inbox preview of a reply without text names its file.
			var conv models.Conversation
			require.NoError(t, e.db.Where("public_id = ?", pid).Take(&conv).Error)
			assert.Equal(t, 2, storedObjects(t, e))
		})
	}
}

// rawRequest writes an HTTP request by hand (headers, then only part of a
// body, or none) and returns the status line the server answers with.
func rawRequest(t testing.TB, e *testEnv, head string, body []byte, closeAfter bool) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte(head))
	require.NoError(t, err)
	if len(body) > 0 {
		_, err = conn.Write(body)
		require.NoError(t, err)
	}
	if closeAfter {
		conn.(*net.TCPConn).CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line)
}

// Every bad upload the issue names is answered clearly and leaves nothing
// stored: too large (413 naming the limit, unread), a forbidden type and a
// name the content contradicts (422), an empty file, an interrupted upload
// (no row, no file, no temporary file), too many files for one message,
// and links expired, forged, of another customer's or of a note's file
// (404).
func TestFileBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("ada@example.com")
	w := e.newVisitor()
	pid := w.start("Hello")

	// Too large: the declared length is refused before any body is sent.
	status := rawRequest(t, e, fmt.Sprintf("POST /widget/conversations/%s/files?name=big.png HTTP/1.1\r\nHost: x\r\n%s: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		pid, visitorHeader, w.token, 300<<20), nil, false)
	assert.Equal(t, "HTTP/1.1 413 Request Entity Too Large", status)
	res := w.upload(pid, "big.bin", make([]byte, 0))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.body, "empty")

	require.NoError(t, e.app.write(context.Background(), func(tx models.Tx) error {
		return models.SetFileLimits(context.Background(), tx, models.FileLimitsInput{MaxMB: "0.001", Types: []string{"image", "pdf"}, PerMessage: "2"})
	}))
	res = w.upload(pid, "big.png", pngFile)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	assert.Equal(t, "This file is 2 KB; the limit is 1 KB.", res.body, "names the limit")
	require.NoError(t, e.app.write(context.Background(), func(tx models.Tx) error {
		return models.SetFileLimits(context.Background(), tx, models.FileLimitsInput{MaxMB: "1", Types: []string{"image", "pdf"}, PerMessage: "2"})
	}))

	res = w.upload(pid, "notes.txt", []byte("just text"))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Files of this type (text files) are not allowed here. Allowed: images, PDF.", res.body)
	res = w.upload(pid, "photo.png", pdfFile)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "The content of photo.png does not match its name (it looks like: PDF).", res.body)
	res = w.upload(pid, "page.html", []byte("<!DOCTYPE html><script>alert(1)</script>"))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "HTML is 'other', not allowed here")

	// Interrupted midway: half the body, then the client goes away.
	status = rawRequest(t, e, fmt.Sprintf("POST /widget/conversations/%s/files?name=cut.png HTTP/1.1\r\nHost: x\r\n%s: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		pid, visitorHeader, w.token, 500<<10), append(append([]byte{}, pngFile...), make([]byte, 100<<10)...), true)
	assert.Equal(t, "HTTP/1.1 400 Bad Request", status)
	assert.Zero(t, countFiles(t, e))
	wait.For(t, 15*time.Second, func() bool { return storedObjects(t, e) == 0 }, "no partial file kept")

	// Too many files for one message; nothing sent.
	ids := []string{chip(t, w.upload(pid, "a.png", pngFile)), chip(t, w.upload(pid, "b.png", pngFile)), chip(t, w.upload(pid, "c.png", pngFile))}
	res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"three"}, "files": ids})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.doc.Find(".w-error").Text(), "At most 2 files per message.")
	assert.Equal(t, 3, res.doc.Find("[data-chip]").Length(), "the pending files come back in the composer")
	res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"two"}, "files": ids[:2]})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	// Another customer's upload is not theirs to send.
	other := e.newVisitor()
	opid := other.start("Me too")
	res = other.post("/widget/conversations/"+opid+"/messages", url.Values{"body": {"mine"}, "files": ids[2:]})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)

	// Links: the customer's works; expired, forged, another customer's, a
	// note's are 404.
	thread := w.get("/widget/conversations/" + pid)
	link, ok := thread.doc.Find("a.w-file-card").First().Attr("href")
	require.True(t, ok)
	got, _ := fetch(t, e, link)
	require.Equal(t, http.StatusOK, got.StatusCode)
	u, _ := url.Parse(link)
	tok := u.Query().Get("t")
	got, _ = fetch(t, e, u.Path+"?t="+tok[:len(tok)-2]+"xx")
	assert.Equal(t, http.StatusNotFound, got.StatusCode, "forged")
	secret, err := e.app.fileSecret(context.Background())
	require.NoError(t, err)
	fid := strings.Split(u.Path, "/")[2]
	v := w.visitor()
	expired := models.SignFileLink(secret, fid, models.FileViewerVisitor(v), time.Now().Add(-time.Minute))
	got, _ = fetch(t, e, u.Path+"?t="+expired)
	assert.Equal(t, http.StatusNotFound, got.StatusCode, "expired")
	stranger := models.SignFileLink(secret, fid, models.FileViewerVisitor(other.visitor()), time.Now().Add(time.Hour))
	got, _ = fetch(t, e, u.Path+"?t="+stranger)
	assert.Equal(t, http.StatusNotFound, got.StatusCode, "another customer's file")

	note := chip(t, b.upload(pid, "internal.pdf", pdfFile))
	res = b.post("/conversations/"+pid+"/messages", url.Values{"kind": {"note"}, "body": {"for us"}, "files": {note}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Zero(t, w.get("/widget/conversations/"+pid).doc.Find(`[data-file="`+note+`"]`).Length())
	asVisitor := models.SignFileLink(secret, note, models.FileViewerVisitor(v), time.Now().Add(time.Hour))
	got, _ = fetch(t, e, "/files/"+note+"/internal.pdf?t="+asVisitor)
	assert.Equal(t, http.StatusNotFound, got.StatusCode, "a note's file, even with a validly signed link")
	page := b.get("/conversations/" + pid)
	deskLink, ok := page.doc.Find(`[data-file="` + note + `"] a.file-card`).Attr("href")
	require.True(t, ok, "staff see the note's file")
	got, _ = fetch(t, e, deskLink)
	assert.Equal(t, http.StatusOK, got.StatusCode)
}

// An unreachable S3 server is a retryable 503 and nothing is recorded.
func TestFileStorageUnreachable(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{config: s3Config(storage.S3Config{Endpoint: "http://127.0.0.1:1", Bucket: "b", AccessKey: "k", SecretKey: "s"})})
	w := e.newVisitor()
	pid := w.start("Hello")
	res := w.upload(pid, "screen.png", pngFile)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Contains(t, res.body, "try again")
	assert.Zero(t, countFiles(t, e))
}

// With clamd configured, an EICAR file is refused on both sides and
// nothing is stored; the agents learn of the customer's in a desk-only
// status line. Clean files pass.
func TestFileInfectedRefused(t *testing.T) {
	t.Parallel()
	clamd := filetest.StartClamd(t)
	e := setup(t, envOpts{config: map[string]string{"PARLEY_CLAMD": clamd.Address}})
	e.user("Ada", "ada@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("ada@example.com")
	w := e.newVisitor()
	pid := w.start("Hello")

	for _, res := range []*response{b.upload(pid, "eicar.txt", []byte(filetest.EICAR)), w.upload(pid, "eicar.txt", []byte(filetest.EICAR))} {
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.Equal(t, "eicar.txt was refused: the virus scan found "+filetest.EICARSignature+". Nothing was stored.", res.body)
	}
	assert.Zero(t, countFiles(t, e))
	assert.Zero(t, storedObjects(t, e))
	page := b.get("/conversations/" + pid)
	assert.Contains(t, page.doc.Find(".msg-system").Text(), "eicar.txt contains "+filetest.EICARSignature)
	assert.NotContains(t, w.get("/widget/conversations/"+pid).body, "eicar")

	chip(t, w.upload(pid, "screen.png", pngFile))
}

// Deleting a message removes its files at once (no link works) and a job
// inserted with the deletion deletes their bytes from storage.
func TestDeletingMessageDeletesFiles(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	e.user("Ada", "ada@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("ada@example.com")
	w := e.newVisitor()
	pid := w.start("Hello")
	id := chip(t, b.upload(pid, "guide.pdf", pdfFile))
	res := b.post("/conversations/"+pid+"/messages", url.Values{"body": {"the guide"}, "files": {id}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	link, _ := w.get("/widget/conversations/" + pid).doc.Find("a.w-file-card").Attr("href")
	require.Equal(t, 1, storedObjects(t, e))

	var f models.File
	require.NoError(t, e.db.Where("public_id = ?", id).Take(&f).Error)
	res = b.post(fmt.Sprintf("/conversations/%s/messages/%d/delete", pid, *f.MessageID), nil, "HX-Request", "true")
	require.Less(t, res.StatusCode, 300, res.body)
	got, _ := fetch(t, e, link)
	assert.Equal(t, http.StatusNotFound, got.StatusCode)
	wait.For(t, 15*time.Second, func() bool { return storedObjects(t, e) == 0 }, "the delete_files job removed the bytes")
	wait.For(t, 15*time.Second, func() bool {
		require.NoError(t, e.db.Take(&f, f.ID).Error)
		return f.PurgedAt != nil
	}, "the removal is recorded")
}

// Admins set the limits (422 beside a bad field, nothing stored) and see
// the storage the files take.
func TestAdminFileSettings(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Root", "root@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.login("root@example.com")
	w := e.newVisitor()
	pid := w.start("Hello")
	chip(t, w.upload(pid, "screen.png", pngFile))

	page := b.get("/admin/conversations")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.doc.Find("#files-use").Text(), "2 KB in 1 files (local)")
	res := b.post("/admin/conversations/files", url.Values{"file_max_mb": {"5000"}, "file_types": {"image", "bogus"}, "files_per_message": {"0"}, "file_retention_days": {"x"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	for _, f := range []string{"file_max_mb", "file_types", "files_per_message", "file_retention_days"} {
		assert.NotEmpty(t, strings.TrimSpace(res.doc.Find("#e-"+f).Text()), f)
	}
	res = b.post("/admin/conversations/files", url.Values{"file_max_mb": {"10"}, "file_types": {"image", "pdf"}, "files_per_message": {"3"}, "file_retention_days": {"30"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	s, err := models.GetSettings(context.Background(), e.db)
	require.NoError(t, err)
	assert.EqualValues(t, 10<<20, s.FileMaxBytes)
	assert.Equal(t, []string{"image", "pdf"}, []string(s.FileTypes))
	assert.Equal(t, 3, s.FilesPerMessage)
	assert.Equal(t, 30, *s.FileRetentionDays)
}
