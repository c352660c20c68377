package app

import (
	"encoding/json"
	"github.com/a-h/templ"
	"github.com/parleydesk/parley/app/live"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Co-browsing (models/cobrowse.go). The desk's side: request, end, send a
// highlight or scroll, read chunks, and the viewer page the desk frames
// (its own, looser CSP: the replayed page's styles and images, never
// scripts). The widget's side: answer, end, and post chunks the loader
// recorded on the host page and passed to the frame.

// cobrowseChunkPage is how many chunks one read returns at most.
const cobrowseChunkPage = 50

// cobrowseSession loads the route's conversation for the current user, and
// its session :sid; anything they may not co-browse is a 404.
func (a *App) cobrowseSession(c echo.Context) (*models.Conversation, *models.CobrowseSession, error) {
	conv, err := a.conversation(c)
	if err != nil {
		return nil, nil, err
	}
	if !models.CanCobrowse(currentUser(c), conv) {
		return nil, nil, models.ErrNotFound
	}
	s, err := models.FindCobrowse(ctxOf(c), a.db, conv, c.Param("sid"))
	if err != nil {
		return nil, nil, err
	}
	return conv, s, nil
}

// requestCobrowse asks the customer to let the agent follow their page
// (models.RequestCobrowse): the widget shows a consent prompt; every open
// desk gets the panel through the stream. A second request while one runs
// is a 409.
func (a *App) requestCobrowse(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.RequestCobrowse(ctxOf(c), tx, currentUser(c), conv)
		return err
	})
	if err != nil {
		return err
	}
	return a.done(c, conv)
}

// endCobrowse ends the session on the agent's side.
func (a *App) endCobrowse(c echo.Context) error {
	conv, s, err := a.cobrowseSession(c)
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.EndCobrowse(ctxOf(c), tx, models.Actor{User: currentUser(c)}, conv, s.PublicID)
		return err
	})
	if err != nil {
		return err
	}
	return a.done(c, conv)
}

// cobrowseCommand sends a highlight (node, an rrweb node id) or a scroll
// (dy) to the customer's page: an event the widget passes to the loader.
func (a *App) cobrowseCommand(c echo.Context) error {
	conv, s, err := a.cobrowseSession(c)
	if err != nil {
		return err
	}
	node, _ := strconv.ParseInt(c.FormValue("node"), 10, 64)
	dy, _ := strconv.Atoi(c.FormValue("dy"))
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.CobrowseCommand(ctxOf(c), tx, currentUser(c), conv, s.PublicID, c.FormValue("cmd"), node, dy)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// cobrowseChunk is one chunk as the viewer reads it.
type cobrowseChunk struct {
	ID     int64           `json:"id"`
	Events json.RawMessage `json:"events"`
}

// cobrowseChunks returns the session's chunks after ?after=<id> as JSON
// ({state, chunks: [{id, events}], more}), for staff who may co-browse the
// conversation only. Ended sessions have had their chunks deleted.
func (a *App) cobrowseChunks(c echo.Context) error {
	conv, s, err := a.cobrowseSession(c)
	if err != nil {
		return err
	}
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	chunks, err := models.CobrowseChunksAfter(ctxOf(c), a.db, currentUser(c), conv, s, after, cobrowseChunkPage+1)
	if err != nil {
		return err
	}
	out := struct {
		State  string          `json:"state"`
		Chunks []cobrowseChunk `json:"chunks"`
		More   bool            `json:"more"`
	}{State: s.State, Chunks: []cobrowseChunk{}}
	if len(chunks) > cobrowseChunkPage {
		chunks, out.More = chunks[:cobrowseChunkPage], true
	}
	for _, ch := range chunks {
		out.Chunks = append(out.Chunks, cobrowseChunk{ID: ch.ID, Events: ch.Data})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// cobrowseViewerCSP lets the replayed page (in rrweb's sandboxed iframe,
// which inherits this policy) keep its inline styles, fonts and images,
// while no script runs but Parley's own; only the desk may frame it.
const cobrowseViewerCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob: https: http:; font-src 'self' data: https: http:; media-src 'none'; object-src 'none'; " +
	"connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// showCobrowseViewer is the viewer page the desk frames when the agent
// opens co-browsing: it alone loads rrweb's replayer.
func (a *App) showCobrowseViewer(c echo.Context) error {
	conv, s, err := a.cobrowseSession(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", cobrowseViewerCSP)
	c.Response().Header().Set("X-Frame-Options", "SAMEORIGIN")
	c.Response().Header().Set("Cache-Control", "no-store")
	return a.render(c, http.StatusOK, views.CobrowseViewerPage(conv, s))
}

// answerCobrowse is the customer's Allow or Decline (allow=1 or 0): the
// widget gets its co-browsing block back (the bar while active).
func (a *App) answerCobrowse(c echo.Context) error {
	v := currentVisitor(c)
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, v, c.Param("pid"))
	if err != nil {
		return err
	}
	var s *models.CobrowseSession
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		s, err = models.AnswerCobrowse(ctxOf(c), tx, v, conv, c.Param("sid"), c.FormValue("allow") == "1")
		return err
	})
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.WidgetCobrowse(conv.PublicID, s, false))
}

// endWidgetCobrowse ends the session on the customer's side (the End button
// of the bar in the widget, or on the host page through the loader).
func (a *App) endWidgetCobrowse(c echo.Context) error {
	v := currentVisitor(c)
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, v, c.Param("pid"))
	if err != nil {
		return err
	}
	var s *models.CobrowseSession
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		if _, err := models.EndCobrowse(ctxOf(c), tx, models.Actor{Customer: &models.Customer{ID: v.CustomerID}}, conv, c.Param("sid")); err != nil {
			return err
		}
		s, err = models.FindCobrowse(ctxOf(c), tx.DB(), conv, c.Param("sid"))
		return err
	})
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.WidgetCobrowse(conv.PublicID, s, false))
}

// postCobrowseChunk stores a batch of rrweb events the loader recorded on
// the host page (relayed by the frame, which adds the visitor header): only
// to the visitor's own conversation's active, consented session (404 for
// another's, 409 when not active), a JSON array (422) within the chunk and
// session caps (413).
func (a *App) postCobrowseChunk(c echo.Context) error {
	v := currentVisitor(c)
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, v, c.Param("pid"))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return bodyError(err)
	}
	var id int64
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		id, err = models.AppendCobrowseChunk(ctxOf(c), tx, v, conv, c.Param("sid"), body)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]int64{"id": id})
}

// cobrowseFromEvent is the session as a state event describes it, enough to
// render its block; nil once it has ended or was declined.
func cobrowseFromEvent(d models.CobrowseEvent) *models.CobrowseSession {
	if d.State != models.CobrowseRequested && d.State != models.CobrowseActive {
		return nil
	}
	return &models.CobrowseSession{ID: d.Session, PublicID: d.PublicID, State: d.State}
}

// renderCobrowse updates the open conversation's co-browsing block when its
// session changes state, and announces new chunks (ids only) to the open
// viewer, for viewers who may co-browse it.
func (v *deskViewer) renderCobrowse(b *live.Batch, evs []models.Event, add func(templ.Component) error) error {
	if v.conv == "" {
		return nil
	}
	var panel *models.CobrowseEvent
	var feed *models.CobrowseEvent
	var conv *models.Conversation
	for _, e := range evs {
		if e.Kind != models.EventCobrowse || e.ConversationID == nil {
			continue
		}
		cv := b.Conversations[*e.ConversationID]
		if cv == nil || cv.PublicID != v.conv || !models.CanCobrowse(v.user, cv) {
			continue
		}
		d, _ := e.Data.(models.CobrowseEvent)
		conv = cv
		switch {
		case d.State != "":
			panel = &d
		case d.Chunk != 0:
			feed = &d
		}
	}
	if panel != nil {
		if err := add(views.CobrowsePanel(conv, cobrowseFromEvent(*panel), true)); err != nil {
			return err
		}
	}
	if feed != nil {
		return add(views.CobrowseFeed(feed.PublicID, feed.Chunk, true))
	}
	return nil
}
