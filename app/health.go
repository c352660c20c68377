package app

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/migrations"
)

// healthz answers as long as the process serves HTTP.
func (a *App) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readyz answers 200 when the database is reachable and fully migrated, so
// a load balancer sends traffic only to instances that can serve it.
func (a *App) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := a.pool.Ping(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	pending, err := migrations.Pending(ctx, a.sql)
	if err != nil || pending {
		return c.String(http.StatusServiceUnavailable, "migrations pending\n")
	}
	return c.String(http.StatusOK, "ready\n")
}
