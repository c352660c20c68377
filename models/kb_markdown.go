package models

import (
	"bytes"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// An article's body is Markdown written by an admin and read by anyone on
// the web, so it is rendered in two guarded steps: goldmark without raw HTML
// (its default: HTML in the source is dropped, never passed through), with a
// transformer that keeps only http, https, mailto and relative URLs and marks
// links rel="nofollow noopener"; then sanitizeHTML re-reads that output and
// keeps only an allowlist of elements and attributes, so a bug in either step
// alone cannot let a <script>, an event handler or a javascript: URL through.

var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkGuard{}, 100))),
)

// RenderArticle returns body (Markdown) as safe HTML: see above. It never
// fails; a body goldmark cannot render comes back as escaped text.
func RenderArticle(body string) string {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(body), &buf); err != nil {
		return "<p>" + html.EscapeString(body) + "</p>"
	}
	return sanitizeHTML(buf.String())
}

// ArticleExcerpt is the first max characters of body's text, Markdown
// syntax removed and whitespace collapsed, ending in "…" when cut: the
// cards' and search results' summary (escaped where shown).
func ArticleExcerpt(body string, max int) string {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(body), &buf); err != nil {
		return clip(body, max)
	}
	var b strings.Builder
	z := html.NewTokenizer(&buf)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Strong, atom.Em, atom.Del, atom.Code, atom.A:
			default:
				b.WriteByte(' ') // blocks and cells must not run together
			}
		}
	}
	text := strings.Join(strings.Fields(b.String()), " ")
	if utf8.RuneCountInString(text) > max {
		r := []rune(text)[:max-1]
		text = strings.TrimRight(string(r), " ") + "…"
	}
	return text
}

// SafeArticleURL reports whether raw may be a link or image address in an
// article: http, https, mailto, or a relative reference (a path or an
// anchor). Control characters and whitespace inside a scheme, which browsers
// strip ("java\tscript:"), make it unsafe.
func SafeArticleURL(raw string) bool {
	s := strings.TrimSpace(raw)
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return true
	case "":
		// No scheme: a path, query or fragment, unless something before
		// a ':' would still read as a scheme to a browser.
		return !strings.Contains(strings.SplitN(strings.SplitN(strings.SplitN(s, "/", 2)[0], "?", 2)[0], "#", 2)[0], ":")
	}
	return false
}

// linkGuard is the AST transformer: unsafe links become their text, unsafe
// images their alt text, and safe links get rel="nofollow noopener" and open
// in a new tab.
type linkGuard struct{}

func (linkGuard) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var unsafe []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch v := n.(type) {
		case *ast.Link:
			if !SafeArticleURL(string(v.Destination)) {
				unsafe = append(unsafe, v)
				return ast.WalkSkipChildren, nil
			}
			v.SetAttributeString("rel", []byte("nofollow noopener"))
			v.SetAttributeString("target", []byte("_blank"))
		case *ast.AutoLink:
			u := string(v.URL(src))
			if v.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(u), "mailto:") {
				u = "mailto:" + u
			}
			if !SafeArticleURL(u) {
				unsafe = append(unsafe, v)
				return ast.WalkSkipChildren, nil
			}
			v.SetAttributeString("rel", []byte("nofollow noopener"))
			v.SetAttributeString("target", []byte("_blank"))
		case *ast.Image:
			if !SafeArticleURL(string(v.Destination)) {
				unsafe = append(unsafe, v)
				return ast.WalkSkipChildren, nil
			}
		}
		return ast.WalkContinue, nil
	})
	for _, n := range unsafe {
		parent := n.Parent()
		if parent == nil {
			continue
		}
		var repl ast.Node
		switch v := n.(type) {
		case *ast.AutoLink:
			repl = ast.NewString(v.Label(src))
		default:
			// Link text, or an image's alt text, without the address.
			var b bytes.Buffer
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				b.Write(nodeText(c, src))
			}
			repl = ast.NewString(b.Bytes())
		}
		parent.ReplaceChild(parent, n, repl)
	}
}

// nodeText is the text under n.
func nodeText(n ast.Node, src []byte) []byte {
	switch v := n.(type) {
	case *ast.Text:
		return v.Segment.Value(src)
	case *ast.String:
		return v.Value
	}
	var b bytes.Buffer
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		b.Write(nodeText(c, src))
	}
	return b.Bytes()
}

// allowedAttrs are the elements an article may contain, with the attributes
// each may keep. Everything else is dropped: an unknown element's tags (its
// text stays, escaped), script and style with their content.
var allowedAttrs = map[atom.Atom][]string{
	atom.P: nil, atom.Br: nil, atom.Hr: nil, atom.H1: nil, atom.H2: nil, atom.H3: nil, atom.H4: nil, atom.H5: nil, atom.H6: nil,
	atom.Strong: nil, atom.Em: nil, atom.Del: nil, atom.Code: nil, atom.Pre: nil, atom.Blockquote: nil,
	atom.Ul: nil, atom.Ol: {"start"}, atom.Li: nil,
	atom.Table: nil, atom.Thead: nil, atom.Tbody: nil, atom.Tr: nil, atom.Th: {"align"}, atom.Td: {"align"},
	atom.A:   {"href", "title", "target"}, // rel: always ours
	atom.Img: {"src", "alt", "title"},
}

// sanitizeHTML keeps only allowedAttrs of s, with URLs that SafeArticleURL
// accepts, every text and attribute escaped again.
func sanitizeHTML(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // inside <script> or <style>
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if skip == 0 {
				b.WriteString(html.EscapeString(string(z.Text())))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			t := z.Token()
			if t.DataAtom == atom.Script || t.DataAtom == atom.Style || t.DataAtom == atom.Iframe || t.DataAtom == atom.Noscript {
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			keep, ok := allowedAttrs[t.DataAtom]
			if !ok || skip > 0 {
				continue
			}
			if tt == html.EndTagToken {
				b.WriteString("</" + t.Data + ">")
				continue
			}
			b.WriteString("<" + t.Data)
			for _, a := range t.Attr {
				if a.Namespace != "" || !slices.Contains(keep, a.Key) {
					continue
				}
				if (a.Key == "href" || a.Key == "src") && !SafeArticleURL(a.Val) {
					continue
				}
				if a.Key == "target" && a.Val != "_blank" {
					continue
				}
				b.WriteString(" " + a.Key + `="` + html.EscapeString(a.Val) + `"`)
			}
			if t.DataAtom == atom.A {
				b.WriteString(` rel="nofollow noopener"`)
			}
			if tt == html.SelfClosingTagToken {
				b.WriteString("/")
			}
			b.WriteString(">")
		}
	}
}
