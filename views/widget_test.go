package views

import (
	"testing"

	"github.com/a-h/templ"
)

func TestLinkify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []textPart
	}{
		{"no links here", []textPart{{Text: "no links here"}}},
		{"see https://example.com/a?b=1&c=2.", []textPart{{Text: "see "}, {Text: "https://example.com/a?b=1&c=2", URL: "https://example.com/a?b=1&c=2"}, {Text: "."}}},
		{"(https://example.org/x_(y))", []textPart{{Text: "("}, {Text: "https://example.org/x_(y)", URL: "https://example.org/x_(y)"}, {Text: ")"}}},
		{"HTTP://EXAMPLE.COM", []textPart{{Text: "HTTP://EXAMPLE.COM", URL: "http://EXAMPLE.COM"}}},
		{`javascript:alert(1)`, []textPart{{Text: "javascript:alert(1)"}}},
		{`x javascript://%0ahttp://a.b`, []textPart{{Text: "x javascript://%0ahttp://a.b"}}},
		{`http://evil.test/"onmouseover="x`, []textPart{{Text: "http://evil.test/", URL: "http://evil.test/"}, {Text: `"onmouseover="x`}}},
		{"<http://a.test/>", []textPart{{Text: "<"}, {Text: "http://a.test/", URL: "http://a.test/"}, {Text: ">"}}},
		{"http://", []textPart{{Text: "http://"}}},
		{"ftp://files.example.com", []textPart{{Text: "ftp://files.example.com"}}},
	}
	for _, c := range cases {
		got := linkify(c.in)
		if len(got) != len(c.want) {
			t.Errorf("linkify(%q) = %#v, want %#v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("linkify(%q)[%d] = %#v, want %#v", c.in, i, got[i], c.want[i])
			}
		}
		var joined string
		for _, p := range got {
			joined += p.Text
		}
		if joined != c.in {
			t.Errorf("linkify(%q) loses text: %q", c.in, joined)
		}
	}
	var _ templ.SafeURL = linkify("http://a.b")[0].URL
}

func TestBrandInk(t *testing.T) {
	t.Parallel()
	for color, want := range map[string]string{
		"#2563eb": "#ffffff", "#0f766e": "#ffffff", "#000000": "#ffffff",
		"#facc15": "#111827", "#ffffff": "#111827", "#a3e635": "#111827", "bad": "#ffffff",
	} {
		if got := BrandInk(color); got != want {
			t.Errorf("BrandInk(%s) = %s, want %s", color, got, want)
		}
	}
}
