package app

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
)

// createVisitor starts an anonymous visitor and returns its token; the frame
// hands it to the loader, which keeps it in the host page's storage.
func (a *App) createVisitor(c echo.Context) error {
	token, _, err := models.CreateVisitor(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]string{"token": token})
}

// identifyVisitor applies what the host page says about its signed-in user
// (window.ParleySettings.user): a valid signature links the visitor to that
// user's customer record on every device; anything unsigned is only kept,
// unverified, on the visitor's own record.
func (a *App) identifyVisitor(c echo.Context) error {
	_, err := models.IdentifyVisitor(ctxOf(c), a.db, currentVisitor(c), models.Identity{
		ExternalID: c.FormValue("id"), Email: c.FormValue("email"),
		Name: c.FormValue("name"), Signature: c.FormValue("signature"),
	})
	if errors.Is(err, models.ErrIdentityRequired) {
		return c.JSON(http.StatusForbidden, map[string]string{"error": tr(c, "widget.identity_required")})
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
