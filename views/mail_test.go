package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/parleydesk/parley/models"
)

// Emails escape what users wrote, keep subjects on one line, and say the
// same in both parts.
func TestAgentMail(t *testing.T) {
	t.Parallel()
	ctx := WithLanguage(context.Background(), "fr")
	cust := &models.Customer{Name: "Eve\r\nBcc: victim@example.com"}
	author := &models.User{Name: "Bob"}
	m := AgentMail{Desk: "Acme", UserName: "Ana", BaseURL: "https://help.example", Items: []models.DigestItem{{
		Reason: models.ReasonMessage,
		Conv:   &models.Conversation{Kind: models.KindCustomer, PublicID: "p1", Customer: cust},
		Messages: []models.Message{
			{Body: "<script>alert(1)</script>", AuthorCustomer: cust},
			{Body: "ok", AuthorUser: author},
		},
	}}}
	subject := AgentMailSubject(ctx, m)
	if strings.ContainsAny(subject, "\r\n") || !strings.HasPrefix(subject, "[Acme] Nouveau message de Eve") {
		t.Fatalf("subject %q", subject)
	}
	var html bytes.Buffer
	if err := AgentMailHTML(m).Render(ctx, &html); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html.String(), "<script>") || !strings.Contains(html.String(), "&lt;script&gt;") {
		t.Fatalf("message body not escaped: %s", html.String())
	}
	text := AgentMailText(ctx, m)
	for _, want := range []string{"Bonjour Ana,", "2 nouveaux messages", "Bob: ok", "https://help.example/conversations/p1", "https://help.example/account#email"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part misses %q:\n%s", want, text)
		}
	}
	for _, want := range []string{`href="https://help.example/conversations/p1"`, `href="https://help.example/account#email"`, `<html lang="fr">`} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("HTML part misses %q", want)
		}
	}
}

// A reply's link (a canned reply's scripted URL) reaches the customer's
// email too, in both parts, escaped.
func TestCustomerMailCarriesLink(t *testing.T) {
	t.Parallel()
	ctx := WithLanguage(context.Background(), "en")
	link := "https://example.com/guide?a=1&b=2"
	m := CustomerMail{Desk: "Acme", CustomerName: "Chloé", Link: "https://help.example/chat/x", LinkDays: 30,
		Messages: []models.Message{{Body: "See the guide", LinkURL: link, AuthorUser: &models.User{Name: "Sam"}}}}
	var html bytes.Buffer
	if err := CustomerMailHTML(m).Render(ctx, &html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), `href="https://example.com/guide?a=1&amp;b=2"`) {
		t.Fatalf("no escaped link in %s", html.String())
	}
	if text := CustomerMailText(ctx, m); !strings.Contains(text, "> "+link+"\n") {
		t.Fatalf("no link in %s", text)
	}
}
