package app

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// deskTranscriptText is a customer conversation's transcript as a .txt
// file, the same the customer saves, for staff who may see the
// conversation (404 otherwise), in their language and in the zone their
// browser names (tz, which desk.js adds; UTC without it).
func (a *App) deskTranscriptText(c echo.Context) error {
	tr, o, err := a.deskTranscript(c)
	if err != nil {
		return err
	}
	return sendTranscript(c, tr, views.TranscriptText(ctxOf(c), tr, o))
}

// deskTranscriptPrint is the same transcript as a page to print (or save
// as PDF from the browser's print dialog).
func (a *App) deskTranscriptPrint(c echo.Context) error {
	tr, o, err := a.deskTranscript(c)
	if err != nil {
		return err
	}
	ctx := ctxOf(c)
	return a.render(c, http.StatusOK, views.TranscriptPrintPage(views.TranscriptTitle(ctx, tr, o),
		views.TranscriptFacts(ctx, tr, o), views.TranscriptEntries(ctx, tr, o), o.Location, tr.Truncated))
}

func (a *App) deskTranscript(c echo.Context) (*models.Transcript, views.TranscriptOpts, error) {
	conv, err := a.conversation(c)
	if err != nil {
		return nil, views.TranscriptOpts{}, err
	}
	tr, err := models.LoadTranscript(ctxOf(c), a.db, conv)
	if err != nil {
		return nil, views.TranscriptOpts{}, err
	}
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return nil, views.TranscriptOpts{}, err
	}
	return tr, views.TranscriptOpts{Location: models.TranscriptLocation(c.QueryParam("tz"), ""), Settings: s}, nil
}

// widgetTranscript is the customer's own transcript as a .txt file: the
// link under the widget's thread carries a signed token for this visitor and
// conversation (a download cannot send the visitor's header), checked by
// models.OpenTranscriptLink; anything else is a 404. In the visitor's
// language and zone (tz from the frame, else the one their browser gave
// when the conversation started).
func (a *App) widgetTranscript(c echo.Context) error {
	conv, err := models.OpenTranscriptLink(ctxOf(c), a.db, c.Param("pid"), c.QueryParam("t"), time.Now())
	if err != nil {
		return err
	}
	tr, err := models.LoadTranscript(ctxOf(c), a.db, conv)
	if err != nil {
		return err
	}
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	o := views.TranscriptOpts{Location: models.TranscriptLocation(c.QueryParam("tz"), conv.Timezone), Customer: true, Settings: s}
	return sendTranscript(c, tr, views.TranscriptText(ctxOf(c), tr, o))
}

// widgetTranscriptURL is the signed link under the widget's thread; empty
// if it cannot be made (the thread shows no link then).
func (a *App) widgetTranscriptURL(c echo.Context, conv *models.Conversation) string {
	token, err := models.TranscriptLinkToken(ctxOf(c), a.db, currentVisitor(c), conv, time.Now().Add(models.TranscriptLinkTTL))
	if err != nil {
		a.log.Warn("transcript link", "err", err)
		return ""
	}
	q := url.Values{"t": {token}, "lang": {views.Lang(ctxOf(c))}}
	return "/widget/conversations/" + url.PathEscape(conv.PublicID) + "/transcript.txt?" + q.Encode()
}

// sendTranscript answers a transcript as a plain-text attachment: customer
// text goes out as it was written, and nosniff keeps any browser from
// reading it as HTML.
func sendTranscript(c echo.Context, tr *models.Transcript, text string) error {
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+views.TranscriptFileName(tr)+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(text))
}
