package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/storage"
	"github.com/parleydesk/parley/views"
)

// Files in conversations (issue 14): uploads from the desk's and the
// widget's composers, and downloads through signed, expiring links.
//
// An upload is the file's bytes as the request body (not multipart), its
// name in the "name" query parameter: the declared Content-Length is
// checked against the desk's limit before anything is read (413 naming the
// limit), the first 512 bytes decide its type (422 for a type the desk
// refuses or content that contradicts the name), then the body streams to
// storage and, at the same time, to clamd: nothing is ever held whole in
// memory, and an interrupted, infected or unrecordable upload leaves
// nothing stored. The answer is the composer chip of the pending upload;
// the message posted next carries it (PostOpts.Files).

// uploadBodyLimit is the edge's cap on upload routes (the desk's own limit,
// at most models.MaxFileBytes, is checked by the handler first).
const uploadBodyLimit = models.MaxFileBytes

// retryAfterStorage is the Retry-After of an upload the storage or the
// scanner could not take.
const retryAfterStorage = 30

// uploadError is an upload refused with a status and a translated message
// (plain text, for files.js to show in the chip).
type uploadError struct {
	status int
	msg    string
	retry  bool
}

func (e *uploadError) Error() string { return fmt.Sprintf("upload refused (%d): %s", e.status, e.msg) }

// fileLimits are the desk's upload rules.
func (a *App) fileLimits(ctx context.Context) (models.FileLimits, error) {
	s, err := models.GetSettings(ctx, a.db)
	if err != nil {
		return models.FileLimits{}, err
	}
	return s.FileLimits(), nil
}

// uploadDeskFile is POST /conversations/:pid/files (staff, CSRF header).
func (a *App) uploadDeskFile(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	f, err := a.receiveUpload(c, conv, models.Actor{User: currentUser(c)})
	if err != nil {
		return a.uploadRefused(c, err)
	}
	return a.render(c, http.StatusOK, views.UploadChip(f, ""))
}

// uploadWidgetFile is POST /widget/conversations/:pid/files (the visitor's
// header; the visitor's write allowance).
func (a *App) uploadWidgetFile(c echo.Context) error {
	v := currentVisitor(c)
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, v, c.Param("pid"))
	if err != nil {
		return err
	}
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	if !v.MayWrite(s) {
		return a.widgetToast(c, http.StatusForbidden, tr(c, "widget.identity_required"))
	}
	f, err := a.receiveUpload(c, conv, models.Actor{Customer: v.Customer})
	if err != nil {
		return a.uploadRefused(c, err)
	}
	return a.render(c, http.StatusOK, views.UploadChip(f, "w-"))
}

// discardDeskUpload and discardWidgetUpload remove a pending upload (the
// chip's ×): its bytes follow through the delete_files job.
func (a *App) discardDeskUpload(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.DiscardUpload(ctxOf(c), tx, models.Actor{User: currentUser(c)}, conv, c.Param("fid"))
	}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *App) discardWidgetUpload(c echo.Context) error {
	v := currentVisitor(c)
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, v, c.Param("pid"))
	if err != nil {
		return err
	}
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.DiscardUpload(ctxOf(c), tx, models.Actor{Customer: v.Customer}, conv, c.Param("fid"))
	}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// uploadRefused answers a refused upload: plain translated text with its
// status (files.js shows it in the chip); other errors go to the error
// handler.
func (a *App) uploadRefused(c echo.Context, err error) error {
	var ue *uploadError
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ue):
	case errors.As(err, &ve) && len(ve.Errors) > 0:
		fe := ve.Errors[0]
		data := map[string]any{}
		for k, v := range fe.Data {
			data[k] = v
		}
		if t, ok := data["Type"].(string); ok {
			data["Type"] = views.FileTypeName(ctxOf(c), t)
		}
		if l, ok := data["Allowed"].(string); ok {
			var names []string
			for _, t := range strings.Split(l, ", ") {
				names = append(names, views.FileTypeName(ctxOf(c), t))
			}
			data["Allowed"] = strings.Join(names, ", ")
		}
		ue = &uploadError{status: http.StatusUnprocessableEntity, msg: tr(c, "error."+fe.Code, data)}
		if fe.Code == "file_too_large" {
			ue.status = http.StatusRequestEntityTooLarge
		}
	default:
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	// The rest of the body is never read: answer at once and close the
	// connection (net/http would otherwise try to drain up to 256 KiB of
	// it before writing the answer).
	h.Set("Connection", "close")
	if ue.retry {
		h.Set("Retry-After", strconv.Itoa(retryAfterStorage))
	}
	return c.String(ue.status, ue.msg)
}

// receiveUpload streams the request body into storage as a pending upload
// of actor's in conv. See the comment at the top of this file.
func (a *App) receiveUpload(c echo.Context, conv *models.Conversation, actor models.Actor) (*models.File, error) {
	ctx, req := ctxOf(c), c.Request()
	limits, err := a.fileLimits(ctx)
	if err != nil {
		return nil, err
	}
	name, err := models.CleanFileName(c.QueryParam("name"))
	if err != nil {
		return nil, err
	}
	if req.ContentLength < 0 {
		return nil, &uploadError{status: http.StatusLengthRequired, msg: tr(c, "files.length_required")}
	}
	if err := limits.CheckSize(req.ContentLength); err != nil {
		return nil, err
	}
	size := req.ContentLength
	head := make([]byte, min(size, models.SniffLen))
	if _, err := io.ReadFull(req.Body, head); err != nil {
		return nil, a.interrupted(c, err)
	}
	ctype, category, err := models.ClassifyFile(name, head)
	if err != nil {
		return nil, err
	}
	if err := limits.CheckType(category); err != nil {
		return nil, err
	}

	key := storage.NewKey()
	sum := sha256.New()
	body := io.MultiReader(bytes.NewReader(head), req.Body)
	body = io.TeeReader(body, sum)
	var (
		scanWG  sync.WaitGroup
		verdict storage.Verdict
		scanErr error
		pw      *io.PipeWriter
	)
	if a.scanner != nil {
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		body = io.TeeReader(body, pw)
		scanWG.Add(1)
		go func() {
			defer scanWG.Done()
			verdict, scanErr = a.scanner.Scan(ctx, pr)
			pr.Close()
		}()
	}
	putErr := a.files.Put(ctx, key, body, size, ctype)
	if pw != nil {
		pw.CloseWithError(putErr)
		scanWG.Wait()
	}
	// From here on, any refusal removes what was stored.
	drop := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := a.files.Delete(dctx, key); err != nil {
			reqLog(c).Warn("remove refused upload", "key", key, "err", err)
		}
	}
	switch {
	case errors.Is(putErr, storage.ErrUnavailable):
		drop()
		reqLog(c).Error("file storage unavailable", "store", a.files.Name(), "err", putErr)
		return nil, &uploadError{status: http.StatusServiceUnavailable, msg: tr(c, "files.storage_unavailable"), retry: true}
	case putErr != nil:
		drop()
		return nil, a.interrupted(c, putErr)
	case a.scanner != nil && scanErr != nil:
		drop()
		reqLog(c).Error("virus scan failed", "err", scanErr)
		return nil, &uploadError{status: http.StatusServiceUnavailable, msg: tr(c, "files.scan_unavailable"), retry: true}
	case verdict.Infected:
		drop()
		reqLog(c).Warn("infected upload refused", "signature", verdict.Signature, "conversation", conv.ID)
		if actor.Customer != nil {
			// The customer is told in the widget; the agents by a desk-only
			// status line.
			if err := a.write(ctx, func(tx models.Tx) error {
				return models.RecordRefusedUpload(ctx, tx, actor, conv, name, verdict.Signature)
			}); err != nil {
				reqLog(c).Error("record refused upload", "err", err)
			}
		}
		return nil, models.Invalid("file", "file_infected", map[string]any{"Name": name, "Signature": verdict.Signature})
	}
	f, err := models.RecordUpload(ctx, a.db, actor, conv, models.UploadInput{
		Key: key, Name: name, ContentType: ctype, Category: category, Size: size, SHA256: hex.EncodeToString(sum.Sum(nil)),
	})
	if err != nil {
		drop()
		return nil, err
	}
	return f, nil
}

// interrupted answers an upload whose body failed: over the edge's cap
// (413), else cut short (400). Nothing of it is kept.
func (a *App) interrupted(c echo.Context, err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	reqLog(c).Info("upload interrupted", "err", err)
	return &uploadError{status: http.StatusBadRequest, msg: tr(c, "files.interrupted")}
}

// fileSecret returns the key signing download links, loaded once.
func (a *App) fileSecret(ctx context.Context) ([]byte, error) {
	a.fileKeyMu.Lock()
	defer a.fileKeyMu.Unlock()
	if a.fileKey != nil {
		return a.fileKey, nil
	}
	k, err := models.FileLinkSecret(ctx, a.db)
	if err != nil {
		return nil, err
	}
	a.fileKey = k
	return k, nil
}

// fileURLs returns the signer of download links for viewer
// (models.FileViewerUser / FileViewerVisitor): views call it through
// views.Request.FileURL. Links expire after models.FileLinkTTL; inline
// ones ask for a thumbnail's or player's disposition.
func (a *App) fileURLs(ctx context.Context, viewer string) func(f *models.File, inline bool) string {
	secret, err := a.fileSecret(ctx)
	if err != nil {
		a.log.Error("file link secret", "err", err)
		return nil
	}
	return func(f *models.File, inline bool) string {
		// Whole hours, so pages rendered in the same hour share links (and
		// the browser's cache of thumbnails).
		exp := time.Now().Add(models.FileLinkTTL).Truncate(time.Hour).Add(time.Hour)
		u := "/files/" + f.PublicID + "/" + url.PathEscape(f.Name) + "?t=" + models.SignFileLink(secret, f.PublicID, viewer, exp)
		if inline {
			u += "&inline=1"
		}
		return u
	}
}

// downloadFile is GET /files/:fid/:name?t=<token>: the file, for the
// viewer its signed token names, if that viewer may still see it
// (models.OpenFileLink); anything else is 404. It is never served as a
// page of this origin: an attachment unless it is an image, audio or video
// browsers show natively (and inline was asked), nosniff, and a CSP
// sandbox with nothing allowed to run.
func (a *App) downloadFile(c echo.Context) error {
	ctx := ctxOf(c)
	secret, err := a.fileSecret(ctx)
	if err != nil {
		return err
	}
	f, err := models.OpenFileLink(ctx, a.db, secret, c.Param("fid"), c.QueryParam("t"), time.Now())
	if err != nil {
		return err
	}
	obj, err := a.files.Open(ctx, f.StorageKey)
	if errors.Is(err, storage.ErrNotFound) {
		return models.ErrNotFound
	}
	if err != nil {
		reqLog(c).Error("file storage unavailable", "store", a.files.Name(), "err", err)
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfterStorage))
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	defer obj.Close()
	h := c.Response().Header()
	disposition := "attachment"
	ctype := f.ContentType
	if c.QueryParam("inline") == "1" && f.Inline() {
		disposition = "inline"
	} else if !f.Inline() && f.Category == models.FileOther {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("ETag", `"`+f.SHA256[:32]+`"`)
	http.ServeContent(c.Response(), c.Request(), "", obj.ModTime(), obj)
	return nil
}
