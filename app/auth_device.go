package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
)

// deviceCookie marks a browser that signed in to an account before
// (models.SignIn): it keeps signing in while attackers trip the account's
// throttles. It outlives sessions and sign-outs on purpose.
const deviceCookie = "parley_device"

// deviceToken is the browser's device cookie, if any.
func deviceToken(c echo.Context) string {
	if ck, err := c.Request().Cookie(deviceCookie); err == nil {
		return ck.Value
	}
	return ""
}

// setDeviceCookie keeps token as this browser's device cookie.
func (a *App) setDeviceCookie(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{Name: deviceCookie, Value: token, Path: "/login", HttpOnly: true,
		Secure: a.cfg.SecureCookies(), SameSite: http.SameSiteStrictMode, MaxAge: int(models.DeviceTTL.Seconds())})
}
