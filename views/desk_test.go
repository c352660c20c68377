package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func renderBody(t *testing.T, text string) (string, *goquery.Document) {
	t.Helper()
	var b bytes.Buffer
	if err := MessageBody(text).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<div id=m>" + b.String() + "</div>"))
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), doc
}

func TestMessageBodyLinks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		links []string // hrefs, in order
	}{
		{"see https://example.com/a?b=1&c=2.", []string{"https://example.com/a?b=1&c=2"}},
		{"(http://example.com/x)", []string{"http://example.com/x"}},
		{"https://en.wikipedia.org/wiki/Go_(programming_language)!", []string{"https://en.wikipedia.org/wiki/Go_(programming_language)"}},
		{"two: https://a.example, https://b.example/", []string{"https://a.example", "https://b.example/"}},
		{"javascript:alert(1) and JAVASCRIPT://x", nil},
		{"data:text/html,<script>alert(1)</script>", nil},
		{"ftp://files.example/x", nil},
		{"http:// nothing", nil},
		{`http://x.example/"onmouseover="alert(1)`, []string{"http://x.example/"}},
		{"http://x.example/'onmouseover='alert(1)", []string{"http://x.example/"}},
		{"HTTPS://EXAMPLE.COM/Up", []string{"https://EXAMPLE.COM/Up"}}, // the scheme is normalised
	}
	for _, c := range cases {
		_, doc := renderBody(t, c.in)
		var got []string
		doc.Find("#m a").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			got = append(got, href)
			if rel, _ := a.Attr("rel"); rel != "noopener nofollow ugc" {
				t.Errorf("%q: rel=%q", c.in, rel)
			}
			if target, _ := a.Attr("target"); target != "_blank" {
				t.Errorf("%q: target=%q", c.in, target)
			}
			if len(a.Nodes[0].Attr) != 3 {
				t.Errorf("%q: a link has exactly href, target and rel: %v", c.in, a.Nodes[0].Attr)
			}
		})
		if strings.Join(got, " ") != strings.Join(c.links, " ") {
			t.Errorf("%q: links %q, want %q", c.in, got, c.links)
		}
		if text := doc.Find("#m").Text(); text != c.in {
			t.Errorf("%q: text changed to %q", c.in, text)
		}
		if doc.Find("#m script, #m [onmouseover]").Length() != 0 {
			t.Errorf("%q: markup got through", c.in)
		}
	}
}

func TestMessageBodyEscapes(t *testing.T) {
	t.Parallel()
	raw, doc := renderBody(t, "<script>alert('x')</script>\nline two & more")
	if strings.Contains(raw, "<script") {
		t.Fatalf("unescaped: %s", raw)
	}
	if got := doc.Find("#m").Text(); got != "<script>alert('x')</script>\nline two & more" {
		t.Errorf("text: %q", got)
	}
}
