package views

import (
	"context"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/a-h/templ"
)

// Message text, shared by the desk and the widget.

// textPart is a run of message text, or a link when URL is set.
type textPart struct {
	Text string
	URL  templ.SafeURL
}

// linkRe finds candidate links: only http and https, up to whitespace or a
// character that cannot be part of a link in running text.
var linkRe = regexp.MustCompile("(?i)\\bhttps?://[^\\s<>\"'`]+")

// linkify splits a message body into text and links. Text is escaped by
// templ when rendered; a link is only made from an absolute http(s) URL that
// parses, and its href is escaped as an attribute value, so a body can never
// add attributes or a javascript: link.
func linkify(body string) []textPart {
	var out []textPart
	last := 0
	for _, loc := range linkRe.FindAllStringIndex(body, -1) {
		start, end := loc[0], loc[1]
		end = start + len(trimLinkTail(body[start:end]))
		u, err := url.Parse(body[start:end]) // lowercases the scheme
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		if start > last {
			out = append(out, textPart{Text: body[last:start]})
		}
		out = append(out, textPart{Text: body[start:end], URL: templ.SafeURL(u.String())})
		last = end
	}
	if last < len(body) {
		out = append(out, textPart{Text: body[last:]})
	}
	return out
}

// trimLinkTail drops punctuation that ends a sentence rather than the link,
// and a closing bracket the link did not open.
func trimLinkTail(s string) string {
	for len(s) > 0 {
		c := s[len(s)-1]
		switch {
		case strings.IndexByte(".,;:!?*", c) >= 0:
			s = s[:len(s)-1]
		case c == ')' && strings.Count(s, "(") < strings.Count(s, ")"),
			c == ']' && strings.Count(s, "[") < strings.Count(s, "]"),
			c == '}' && strings.Count(s, "{") < strings.Count(s, "}"):
			s = s[:len(s)-1]
		default:
			return s
		}
	}
	return s
}

// MessageBody renders a message's text: escaped, with line breaks kept (by
// CSS) and http(s) addresses as links that open in a new tab and pass no
// referrer-based trust. Every piece, link targets included, is HTML-escaped.
func MessageBody(text string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		for _, p := range linkify(text) {
			if p.URL == "" {
				b.WriteString(html.EscapeString(p.Text))
				continue
			}
			b.WriteString(`<a href="`)
			b.WriteString(html.EscapeString(string(p.URL)))
			b.WriteString(`" target="_blank" rel="noopener nofollow ugc">`)
			b.WriteString(html.EscapeString(p.Text))
			b.WriteString(`</a>`)
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}
