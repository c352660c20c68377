package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// updateCustomer saves the context panel's edit of the conversation's
// customer (models.UpdateCustomer: validated, each changed field audited).
// Staff who may not see the conversation or its customer get a 404. htmx
// gets the panel back (422 with the reasons beside the fields, nothing
// stored); a plain form goes back to the conversation. Other desks see the
// edit when they next open the conversation (no live event).
func (a *App) updateCustomer(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	if !models.CanSeeCustomerData(u) || conv.Kind != models.KindCustomer || conv.CustomerID == nil {
		return echo.ErrNotFound
	}
	in := models.CustomerEdit{Name: c.FormValue("name"), Email: c.FormValue("email"), Phone: c.FormValue("phone"), Notes: c.FormValue("notes")}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.UpdateCustomer(ctxOf(c), tx, u, *conv.CustomerID, in)
		return err
	})
	fragment := views.Req(ctxOf(c)).Fragment
	switch {
	case isValidation(err):
		form := views.NewForm(map[string]string{"name": in.Name, "email": in.Email, "phone": in.Phone, "notes": in.Notes}, err)
		if !fragment {
			c.SetRequest(c.Request().WithContext(views.WithCustomerForm(ctxOf(c), form)))
			return a.renderConversation(c, http.StatusUnprocessableEntity, views.NewForm(nil, nil))
		}
		cc, lerr := models.LoadCustomerContext(ctxOf(c), a.db, u, conv)
		if lerr != nil {
			return lerr
		}
		return a.render(c, http.StatusUnprocessableEntity, views.CustomerContextPanel(conv, cc, form))
	case err != nil:
		return err
	case fragment:
		cc, err := models.LoadCustomerContext(ctxOf(c), a.db, u, conv)
		if err != nil {
			return err
		}
		return a.render(c, http.StatusOK, views.CustomerContextPanel(conv, cc, views.CustomerForm(cc.Customer)))
	}
	return a.redirect(c, back(c, "/conversations/"+conv.PublicID))
}
