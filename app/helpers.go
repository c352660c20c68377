package app

import (
	"errors"
	"strconv"

	"github.com/parleydesk/parley/models"

	"github.com/labstack/echo/v4"
)

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
