package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Knowledge-base articles, the admins' side: /admin/articles (list and
// search, drafts included), new, edit, delete and a preview of the body as
// customers will see it. Every change goes through the writer with an
// ArticleEvent (models.CreateArticle, UpdateArticle, DeleteArticle); the
// routes sit behind requireAdmin and the models check CanManageArticles too.

// articleFormBodyLimit fits an article's body (20,000 characters of up to 4
// bytes, each 3 once form-encoded) with room to spare, so a body somewhat
// over the limit gets its 422 beside the field rather than a 413.
const articleFormBodyLimit = 320 << 10

func (a *App) listArticles(c echo.Context) error {
	q := c.QueryParam("q")
	hits, err := models.SearchArticles(ctxOf(c), a.db, models.ArticleSearch{Query: q, Drafts: true, Limit: 100})
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.AdminArticlesPage(hits, q))
}

func articleInput(c echo.Context) models.ArticleInput {
	return models.ArticleInput{Title: c.FormValue("title"), Slug: c.FormValue("slug"), Body: c.FormValue("body"),
		Language: c.FormValue("language"), Published: c.FormValue("published") != ""}
}

func articleValues(c echo.Context) map[string]string {
	return map[string]string{"title": c.FormValue("title"), "slug": c.FormValue("slug"), "body": c.FormValue("body"),
		"language": c.FormValue("language"), "published": c.FormValue("published")}
}

func (a *App) newArticle(c echo.Context) error {
	lang := models.ArticleLanguage(views.Lang(ctxOf(c)))
	return a.render(c, http.StatusOK, views.AdminArticleFormPage(views.ArticleForm{Form: views.NewForm(map[string]string{"language": lang}, nil)}))
}

func (a *App) createArticle(c echo.Context) error {
	var art *models.Article
	err := a.write(ctxOf(c), func(tx models.Tx) (err error) {
		art, err = models.CreateArticle(ctxOf(c), tx, currentUser(c), articleInput(c))
		return err
	})
	if isValidation(err) {
		return a.render(c, http.StatusUnprocessableEntity, views.AdminArticleFormPage(views.ArticleForm{Form: views.NewForm(articleValues(c), err)}))
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "kb.created", map[string]any{"Title": art.Title}))
	return a.redirect(c, "/admin/articles")
}

func (a *App) editArticle(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	art, err := models.FindArticle(ctxOf(c), a.db, currentUser(c), id)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.AdminArticleFormPage(views.ArticleForm{Article: art, Form: views.NewForm(views.ArticleFormValues(art), nil)}))
}

func (a *App) updateArticle(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var art *models.Article
	err = a.write(ctxOf(c), func(tx models.Tx) (err error) {
		art, err = models.UpdateArticle(ctxOf(c), tx, currentUser(c), id, articleInput(c))
		return err
	})
	if isValidation(err) {
		old, ferr := models.FindArticle(ctxOf(c), a.db, currentUser(c), id)
		if ferr != nil {
			return ferr
		}
		return a.render(c, http.StatusUnprocessableEntity, views.AdminArticleFormPage(views.ArticleForm{Article: old, Form: views.NewForm(articleValues(c), err)}))
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "kb.saved", map[string]any{"Title": art.Title}))
	return a.redirect(c, "/admin/articles")
}

func (a *App) deleteArticle(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.DeleteArticle(ctxOf(c), tx, currentUser(c), id)
	})
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "kb.deleted"))
	return a.redirect(c, "/admin/articles")
}

// previewArticle renders the submitted body as customers will see it
// (models.RenderArticle), storing nothing. A POST: the body may be long,
// and it carries the CSRF token like every admin form.
func (a *App) previewArticle(c echo.Context) error {
	return a.render(c, http.StatusOK, views.ArticlePreview(c.FormValue("title"), models.RenderArticle(c.FormValue("body"))))
}
