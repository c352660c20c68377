package views

import (
	"context"
	"fmt"

	"github.com/parleydesk/parley/models"
)

// ArticleForm is the admin's new (Article nil) or edit form of a
// knowledge-base article.
type ArticleForm struct {
	Article *models.Article
	Form    Form
}

// ArticleFormValues are a stored article's fields as the form shows them.
func ArticleFormValues(a *models.Article) map[string]string {
	v := map[string]string{"title": a.Title, "slug": a.Slug, "body": a.Body, "language": a.Language}
	if a.Published {
		v["published"] = "1"
	}
	return v
}

// HelpURL is an article's public page.
func HelpURL(slug string) string { return "/help/" + slug }

func articleFormAction(d ArticleForm) string {
	if d.Article == nil {
		return "/admin/articles"
	}
	return fmt.Sprintf("/admin/articles/%d", d.Article.ID)
}

func articleEditURL(id int64) string { return fmt.Sprintf("/admin/articles/%d/edit", id) }

func articleDeleteURL(id int64) string { return fmt.Sprintf("/admin/articles/%d/delete", id) }

func articleSendURL(pid string, id int64) string {
	return fmt.Sprintf("/conversations/%s/articles/%d", pid, id)
}

func articleFormTitle(ctx context.Context, d ArticleForm) string {
	if d.Article == nil {
		return T(ctx, "kb.new")
	}
	return T(ctx, "kb.edit_title", map[string]any{"Title": d.Article.Title})
}

// articleMailURL is the public page of the article msg carries, for the
// customer's email: only while it is published, and only with a base URL.
func articleMailURL(m CustomerMail, msg *models.Message) string {
	if m.BaseURL == "" || msg.Article == nil || !msg.Article.Published || msg.DeletedAt != nil {
		return ""
	}
	return m.BaseURL + HelpURL(msg.Article.Slug)
}
