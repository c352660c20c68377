package app

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/a-h/templ"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/models"

	"github.com/labstack/echo/v4"
)

// streamEvents serves a live stream for the request's viewer: customerID 0
// for staff, or the visitor's customer. render decides, per batch, what that
// viewer receives (desk_events.go, widget_events.go).
func (a *App) streamEvents(c echo.Context, customerID int64, render live.Renderer) error {
	return a.hub.Serve(c.Response(), c.Request(), live.Stream{CustomerID: customerID, Render: render, Log: reqLog(c)})
}

// idParam parses a numeric route parameter; anything else is a 404.
func idParam(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

func isValidation(err error) bool {
	var ve *models.ValidationError
	return errors.As(err, &ve)
}

// idempotencyKeyHeader carries the client's key for one composed message
// (the idempotency_key form field works too, for plain forms).
const idempotencyKeyHeader = "Idempotency-Key"

// errBadIdempotencyKey is a malformed key: a client bug, not the user's.
var errBadIdempotencyKey = echo.NewHTTPError(http.StatusBadRequest, "malformed Idempotency-Key")

// idempotencyKey reads a message post's idempotency key (empty if none):
// the widget and the desk generate one per composed message and send it
// again with every retry, so a post whose answer was lost is stored once.
func idempotencyKey(c echo.Context) (string, error) {
	k := c.Request().Header.Get(idempotencyKeyHeader)
	if k == "" {
		k = c.FormValue("idempotency_key")
	}
	if k != "" && !models.ValidIdempotencyKey(k) {
		return "", errBadIdempotencyKey
	}
	return k, nil
}

// update joins a stream's fragments into one "update" event (none for
// no fragments).
func update(ctx context.Context, parts []templ.Component) ([][2]string, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := templ.Join(parts...).Render(ctx, &buf); err != nil {
		return nil, err
	}
	return [][2]string{{"update", buf.String()}}, nil
}
