package views

import (
	"context"
	"strings"

	"github.com/parleydesk/parley/models"
)

// AgentMailSubject names what the email is about: the one conversation, or
// how many.
func AgentMailSubject(ctx context.Context, m AgentMail) string {
	return oneLine(agentMailSubject(ctx, m))
}

func agentMailSubject(ctx context.Context, m AgentMail) string {
	if len(m.Items) != 1 {
		return T(ctx, "mail.subject_digest", map[string]any{"Desk": m.Desk, "Count": len(m.Items)})
	}
	it := m.Items[0]
	switch it.Reason {
	case models.ReasonNewConversation:
		return T(ctx, "mail.subject_new_conversation", map[string]any{"Desk": m.Desk, "Name": itemTitle(ctx, it)})
	case models.ReasonAssigned:
		return T(ctx, "mail.subject_assigned", map[string]any{"Desk": m.Desk, "Name": itemTitle(ctx, it)})
	case models.ReasonSLABreach:
		return T(ctx, "sla.mail_subject", map[string]any{"Desk": m.Desk, "Name": itemTitle(ctx, it)})
	}
	return T(ctx, "mail.subject_message", map[string]any{"Desk": m.Desk, "Name": itemTitle(ctx, it)})
}

// AgentMailText is the text/plain part of an AgentMail.
func AgentMailText(ctx context.Context, m AgentMail) string {
	var b strings.Builder
	b.WriteString(T(ctx, "mail.hello", map[string]any{"Name": m.UserName}) + "\n\n")
	for _, it := range m.Items {
		b.WriteString(agentReason(ctx, it) + "\n")
		for _, msg := range it.Messages {
			b.WriteString("  " + agentMailAuthor(ctx, msg) + ": " + mailExcerpt(msg.Body) + "\n")
		}
		b.WriteString(T(ctx, "mail.open") + ": " + m.Link(it) + "\n\n")
	}
	b.WriteString("-- \n" + T(ctx, "mail.footer_agent") + " " + m.AccountURL() + "\n")
	return b.String()
}

// CustomerMailSubject is the subject of a CustomerMail.
func CustomerMailSubject(ctx context.Context, m CustomerMail) string {
	return oneLine(T(ctx, "mail.customer_subject", map[string]any{"Desk": m.Desk, "Count": len(m.Messages)}))
}

// oneLine keeps a header value on one line whatever names it carries.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// CustomerMailText is the text/plain part of a CustomerMail.
func CustomerMailText(ctx context.Context, m CustomerMail) string {
	var b strings.Builder
	b.WriteString(customerHello(ctx, m) + "\n\n")
	b.WriteString(T(ctx, "mail.customer_intro", map[string]any{"Desk": m.Desk}) + "\n\n")
	for _, msg := range m.Messages {
		b.WriteString(models.CustomerAuthorName(&msg, m.Desk) + ":\n")
		for _, line := range strings.Split(msg.Body, "\n") {
			b.WriteString("> " + line + "\n")
		}
		if msg.LinkURL != "" && msg.LinkURL != msg.Body { // a pushed URL is its own text
			b.WriteString("> " + msg.LinkURL + "\n")
		}
		if u := articleMailURL(m, &msg); u != "" {
			b.WriteString("> " + u + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(T(ctx, "mail.customer_open") + ": " + m.Link + "\n\n")
	b.WriteString("-- \n" + T(ctx, "mail.customer_footer", map[string]any{"Count": m.LinkDays}) + "\n")
	return b.String()
}

func customerHello(ctx context.Context, m CustomerMail) string {
	if m.CustomerName == "" {
		return T(ctx, "mail.hello_anonymous")
	}
	return T(ctx, "mail.hello", map[string]any{"Name": m.CustomerName})
}

// agentReason is the line that says why a conversation is in the email.
func agentReason(ctx context.Context, it models.DigestItem) string {
	switch it.Reason {
	case models.ReasonNewConversation:
		return T(ctx, "mail.reason_new_conversation", map[string]any{"Name": itemTitle(ctx, it)})
	case models.ReasonAssigned:
		return T(ctx, "mail.reason_assigned", map[string]any{"Name": itemTitle(ctx, it)})
	case models.ReasonSLABreach:
		return T(ctx, "sla.mail_reason", map[string]any{"Name": itemTitle(ctx, it)})
	}
	return T(ctx, "mail.reason_message", map[string]any{"Name": itemTitle(ctx, it), "Count": len(it.Messages)})
}

func mailAuthor(m models.Message) string {
	switch {
	case m.AuthorUser != nil:
		return m.AuthorUser.Name
	case m.AuthorCustomer != nil:
		return m.AuthorCustomer.DisplayName()
	}
	return ""
}

// mailExcerpt shortens a message for a digest line.
func mailExcerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:199]) + "…"
	}
	return s
}

// itemTitle names a conversation in an email: the customer, or the teammate
// chat's subject, or who wrote in it.
func itemTitle(ctx context.Context, it models.DigestItem) string {
	if t := it.Title(); t != "" {
		return t
	}
	for _, m := range it.Messages {
		if a := mailAuthor(m); a != "" {
			return a
		}
	}
	return T(ctx, "mail.teammate_chat")
}
