package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// showWidgetFrame serves the page inside the widget's iframe. It knows
// nothing of the visitor (their token is in the URL fragment, which
// browsers never send); widget-frame.js loads the visitor's views into it.
func (a *App) showWidgetFrame(c echo.Context) error {
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	frameHeaders(c, s)
	return a.render(c, http.StatusOK, views.WidgetFramePage(views.WidgetFrame{
		Settings: s, ThemeURL: themeURL(s), Origins: s.AllowedOrigins,
		Standalone: c.QueryParam("view") == "page",
	}))
}

// showDemo serves a sample "customer site" with the widget embedded, so a
// new desk can try both sides at once; admins can turn it off.
func (a *App) showDemo(c echo.Context) error {
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	if !s.DemoEnabled {
		return echo.ErrNotFound
	}
	return a.render(c, http.StatusOK, views.DemoPage(views.DeskName(ctxOf(c), s)))
}
