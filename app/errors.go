package app

import (
	"cmp"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// retryAfterUnavailable is the Retry-After, in seconds, of a 503 answered
// while the database is unreachable.
const retryAfterUnavailable = 5

// dbUnavailable reports whether err means the database cannot be reached
// right now (as opposed to a query that is wrong): no connection could be
// made or acquired in time, the connection was refused, reset or closed
// under the request, the server is shutting down or starting up, or pgx
// says the statement never reached the server.
func dbUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || dbConnectionLost(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P03" || pe.Code == "53300" // cannot connect now, too many connections
	}
	// A deadline while waiting for a connection or the server (the client
	// going away is context.Canceled, handled apart).
	return errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err)
}

// dbConnectionLost reports whether err means an established connection
// died (server shut down or restarted, network cut): the pool's other idle
// connections are most likely dead too.
func dbConnectionLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Connection exceptions; admin or crash shutdown.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02"
	}
	if errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	// A broken socket counts only under pgx's connection layer (whose errors
	// say whether a retry is safe): the same errors from reading a request
	// body are the client's.
	var fromPgconn interface{ SafeToRetry() bool }
	return errors.As(err, &fromPgconn) && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF))
}

// handleError is the one place errors become responses: 404 for anything not
// found (or not visible), 403 for roles and CSRF, 422 for validation that a
// handler did not render itself, 429 for rate limits, 503 with Retry-After
// while the database is unreachable (dbUnavailable), and 500 — logged with
// the request id — for everything else. htmx fragment requests get a toast
// instead of a page.
func (a *App) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, titleID, msgID := http.StatusInternalServerError, "error.server_title", "error.server"
	var message string
	unavailable := false
	var he *echo.HTTPError
	var ve *models.ValidationError
	var rl *models.RateLimitedError
	switch {
	case errors.Is(err, models.ErrNotFound), errors.Is(err, echo.ErrNotFound), errors.Is(err, echo.ErrMethodNotAllowed):
		status, titleID, msgID = http.StatusNotFound, "error.not_found_title", "error.not_found"
	case errors.Is(err, models.ErrForbidden):
		status, titleID, msgID = http.StatusForbidden, "error.forbidden_title", "error.forbidden"
	case errors.Is(err, models.ErrCobrowseBusy), errors.Is(err, models.ErrCobrowseState):
		status, titleID, msgID = http.StatusConflict, "cobrowse.conflict_title", "cobrowse.conflict"
	case errors.Is(err, models.ErrCobrowseTooLarge):
		status, titleID, msgID = http.StatusRequestEntityTooLarge, "error.too_large_title", "error.too_large"
	case errors.Is(err, errCSRF):
		status, titleID, msgID = http.StatusForbidden, "error.csrf_title", "error.csrf"
	case errors.Is(err, errBadText):
		status, titleID, msgID = http.StatusBadRequest, "error.bad_text_title", "error.bad_text"
	case errors.As(err, &ve):
		status, titleID, msgID = http.StatusUnprocessableEntity, "error.bad_request_title", "error.bad_request"
		if len(ve.Errors) > 0 {
			fe := ve.Errors[0]
			message = tr(c, "error."+fe.Code, fe.Data)
		}
	case errors.As(err, &rl):
		status, titleID, msgID = http.StatusTooManyRequests, "error.too_many_title", "error.too_many"
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(rl.RetryAfter.Seconds()))))
	case dbUnavailable(err):
		// The database is down or unreachable: nothing the client did wrong,
		// and a retry shortly is the right move (the widget retries by itself).
		status, titleID, msgID = http.StatusServiceUnavailable, "error.unavailable_title", "error.unavailable"
		unavailable = true
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfterUnavailable))
		c.Response().Header().Set("Cache-Control", "no-store")
		if dbConnectionLost(err) && a.pool != nil {
			// Drop the pool's other connections now rather than fail one
			// request per dead connection once the server is back.
			a.pool.Reset()
		}
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusForbidden:
			status, titleID, msgID = http.StatusForbidden, "error.forbidden_title", "error.forbidden"
		case http.StatusTooManyRequests:
			status, titleID, msgID = http.StatusTooManyRequests, "error.too_many_title", "error.too_many"
		case http.StatusRequestEntityTooLarge:
			status, titleID, msgID = he.Code, "error.too_large_title", "error.too_large"
		case http.StatusUnsupportedMediaType:
			status, titleID, msgID = he.Code, "error.bad_request_title", "error.unsupported_body"
		case http.StatusBadRequest:
			status, titleID, msgID = he.Code, "error.bad_request_title", "error.bad_request"
		case http.StatusServiceUnavailable:
			status = he.Code
		}
	}
	if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
		// The client went away mid-request: nothing to show, nothing broken.
		reqLog(c).Debug("client gone", "method", c.Request().Method, "path", c.Request().URL.Path)
		return
	}
	a.edgeContext(c)
	switch {
	case unavailable:
		reqLog(c).Warn("database unavailable", "err", err, "method", c.Request().Method, "path", c.Request().URL.Path)
	case status >= 500:
		reqLog(c).Error("request failed", "err", err, "method", c.Request().Method, "path", c.Request().URL.Path)
	}
	if message == "" {
		message = tr(c, msgID)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		// htmx does not swap error responses (but 422); the toast explains.
		b, _ := json.Marshal(map[string]any{"toast": map[string]string{"level": "error", "message": message}})
		c.Response().Header().Set("HX-Trigger", string(b))
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status) //nolint:errcheck
		return
	}
	if isJobsAPIPath(c.Request().URL.Path) {
		// River's UI reads its API's errors as {"message": …}; whatever the
		// edge refused before the jobs guard ran is answered the same way.
		c.Response().Header().Set("Cache-Control", "no-store")
		c.JSON(status, map[string]string{"message": message}) //nolint:errcheck
		return
	}
	if err := a.render(c, status, views.ErrorPage(status, tr(c, titleID), message)); err != nil {
		reqLog(c).Error("render error page", "err", err)
		c.String(status, message) //nolint:errcheck
	}
}

// edgeContext gives a request refused at the edge (before loadSession or
// widgetContext prepared it) what its error page needs: the visitor's
// language and whether htmx asked for a fragment. Both middlewares always
// set the request id, so its absence tells that neither ran.
func (a *App) edgeContext(c echo.Context) {
	req := c.Request()
	if views.Req(req.Context()).RequestID != "" {
		return
	}
	lang, fragment := req.Header.Get("Accept-Language"), req.Header.Get("HX-Request") == "true" && req.Header.Get("HX-Boosted") != "true"
	if isWidgetPath(req.URL.Path) {
		lang, fragment = cmp.Or(c.QueryParam("lang"), req.Header.Get(langHeader), lang), req.Header.Get("HX-Request") == "true"
	}
	ctx := views.WithLanguage(req.Context(), views.MatchLanguage(lang))
	ctx = views.WithRequest(ctx, &views.Request{
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID), Path: req.URL.Path, Fragment: fragment,
	})
	c.SetRequest(req.WithContext(ctx))
}
