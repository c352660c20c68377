package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/parleydesk/parley/models"
)

// A sent article reaches the customer's email as its public page's
// address, in both parts, while it is published; a draft's is left out.
func TestCustomerMailCarriesArticle(t *testing.T) {
	t.Parallel()
	ctx := WithLanguage(context.Background(), "en")
	art := &models.ArticleRef{Slug: "export-your-data", Title: "Export your data", Published: true}
	m := CustomerMail{Desk: "Acme", Link: "https://help.example/chat/x", LinkDays: 30, BaseURL: "https://help.example",
		Messages: []models.Message{{Body: "Export your data", ArticleSent: true, Article: art, AuthorUser: &models.User{Name: "Sam"}}}}
	var html bytes.Buffer
	if err := CustomerMailHTML(m).Render(ctx, &html); err != nil {
		t.Fatal(err)
	}
	want := "https://help.example/help/export-your-data"
	if !strings.Contains(html.String(), `href="`+want+`"`) {
		t.Fatalf("no article link in %s", html.String())
	}
	if text := CustomerMailText(ctx, m); !strings.Contains(text, "> "+want+"\n") {
		t.Fatalf("no article link in %s", text)
	}
	art.Published = false
	if text := CustomerMailText(ctx, m); strings.Contains(text, want) {
		t.Fatalf("a draft's link in %s", text)
	}
}
