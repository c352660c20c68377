package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Knowledge-base articles outside the admin pages (admin_articles.go): the
// desk composer's picker and sending one into a conversation
// (/conversations/:pid/articles…), the widget's search before a chat
// (/widget/articles) and the public page of a published article
// (/help/:slug).

// articlePickerLimit is how many matches the desk picker and the widget show.
const articlePickerLimit = 12

// articlePicker is the composer's article picker (or, for its search box,
// only the results): published articles matching q, those in the
// conversation's language first.
func (a *App) articlePicker(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	if !models.CanSendArticle(currentUser(c), conv) {
		return models.ErrNotFound
	}
	return a.renderArticlePicker(c, http.StatusOK, conv, views.Form{})
}

func (a *App) renderArticlePicker(c echo.Context, status int, conv *models.Conversation, f views.Form) error {
	q := c.QueryParam("q")
	hits, err := models.SearchArticles(ctxOf(c), a.db, models.ArticleSearch{
		Query: q, Prefer: models.ArticleLanguage(conv.Language), Limit: articlePickerLimit,
	})
	if err != nil {
		return err
	}
	return a.render(c, status, views.ArticlePicker(conv, hits, q, f))
}

// sendArticle sends a published article into the conversation
// (models.SendArticle): the customer sees its card, every desk the message,
// through the streams. htmx gets the picker back empty (closed), or open
// with the reason (422: the article was unpublished or deleted meanwhile;
// nothing stored).
func (a *App) sendArticle(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.SendArticle(ctxOf(c), tx, currentUser(c), conv, id, key)
		return err
	})
	fragment := views.Req(ctxOf(c)).Fragment
	switch {
	case isValidation(err) && fragment:
		return a.renderArticlePicker(c, http.StatusUnprocessableEntity, conv, views.NewForm(nil, err))
	case isValidation(err):
		a.toast(c, "error", views.NewForm(nil, err).Error(ctxOf(c), "article"))
		return a.redirect(c, "/conversations/"+conv.PublicID)
	case err != nil:
		return err
	case fragment:
		a.toast(c, "success", tr(c, "kb.sent"))
		return c.HTML(http.StatusOK, "")
	}
	return a.redirect(c, "/conversations/"+conv.PublicID)
}

// widgetArticles is the widget's search before a chat: published articles
// only (models.Article.VisibleToCustomer), the visitor's language first.
// Articles are public, so it needs no visitor, only the read allowance.
func (a *App) widgetArticles(c echo.Context) error {
	q := c.QueryParam("q")
	var hits []models.ArticleHit
	if q != "" {
		var err error
		hits, err = models.SearchArticles(ctxOf(c), a.db, models.ArticleSearch{
			Query: q, Prefer: models.ArticleLanguage(views.Lang(ctxOf(c))), Limit: articlePickerLimit,
		})
		if err != nil {
			return err
		}
	}
	return a.render(c, http.StatusOK, views.WidgetArticleResults(hits, q))
}

// helpCSP is the public article page's policy: the site's own, but images
// may come from any https address (articles may show screenshots hosted
// elsewhere; the Markdown renderer keeps only http(s) image URLs).
const helpCSP = "default-src 'self'; img-src 'self' https:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// showHelpArticle is a published article's public page, for customers and
// anyone with the link; a draft or unknown slug is a 404. The chrome is in
// the reader's language (the locale middleware), the article in its own.
func (a *App) showHelpArticle(c echo.Context) error {
	art, err := models.PublicArticle(ctxOf(c), a.db, c.Param("slug"))
	if err != nil {
		return err
	}
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", helpCSP)
	c.Response().Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
	return a.render(c, http.StatusOK, views.HelpArticlePage(views.DeskName(ctxOf(c), s), art, models.RenderArticle(art.Body)))
}
