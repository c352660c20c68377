package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func TestSlugify(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Reset your password":          "reset-your-password",
		"  Réinitialiser où ? ":        "reinitialiser-ou",
		"Configuração do Ação 2FA!":    "configuracao-do-acao-2fa",
		"--a--b--":                     "a-b",
		"日本語":                          "",
		"<script>alert(1)</script>":    "script-alert-1-script",
		strings.Repeat("word ", 40):    strings.TrimSuffix(strings.Repeat("word-", 16), "-"),
		"ÉCOLE / Über: naïve façade  ": "ecole-uber-naive-facade",
	} {
		got := models.Slugify(in)
		assert.Equal(t, want, got, "%q", in)
		assert.LessOrEqual(t, len(got), models.MaxArticleSlugLen)
	}
}

func TestArticleLanguage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"en": "en", "en-GB": "en", "pt": "pt-BR", "pt_PT": "pt-BR", "pt-BR": "pt-BR", "FR-ca": "fr", "de": "", "": ""} {
		assert.Equal(t, want, models.ArticleLanguage(in), in)
	}
}

// Whatever an admin types, the rendered HTML has no script, no event
// handler, no javascript:/data:/vbscript: URL, and every link is marked
// rel="nofollow noopener". Parsing the output (as a browser would) checks
// it, not a substring search.
func TestRenderArticleIsSafe(t *testing.T) {
	t.Parallel()
	hostile := []string{
		"<script>alert(1)</script>",
		"Hi <script src=//evil.example></script> there",
		"<img src=x onerror=alert(1)>",
		"<a href=\"javascript:alert(1)\">x</a>",
		"[click](javascript:alert(1))",
		"[click](JaVaScRiPt:alert(1))",
		"[click](java\tscript:alert(1))",
		"[click](&#106;avascript:alert(1))",
		"[click](javascript&colon;alert(1))",
		"[x](vbscript:msgbox(1))",
		"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"![img](javascript:alert(1))",
		"![img](data:image/svg+xml;base64,PHN2Zz4=)",
		"<javascript:alert(1)>",
		"[ref][1]\n\n[1]: javascript:alert(1)",
		"<iframe src=https://evil.example></iframe>",
		"<style>body{display:none}</style>",
		"<div onclick=alert(1)>x</div>",
		"`<script>alert(1)</script>`",
		"```\n<script>alert(1)</script>\n```",
		"<svg><script>alert(1)</script></svg>",
		"<<script>script>alert(1)<</script>/script>",
		"[a](https://ok.example \"t\\\" onmouseover=alert(1) x=\\\"\")",
		"<!-- --><script>alert(1)</script>",
	}
	for _, src := range hostile {
		out := models.RenderArticle(src)
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(out))
		require.NoError(t, err)
		assert.Zero(t, doc.Find("script, iframe, style, svg, object, embed, form, div").Length(), "%q -> %s", src, out)
		doc.Find("*").Each(func(_ int, s *goquery.Selection) {
			for _, a := range s.Nodes[0].Attr {
				assert.False(t, strings.HasPrefix(a.Key, "on"), "%q: handler %s in %s", src, a.Key, out)
				if a.Key == "href" || a.Key == "src" {
					v := strings.ToLower(strings.TrimSpace(a.Val))
					assert.True(t, strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "mailto:") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "#"),
						"%q: unsafe %s=%q", src, a.Key, a.Val)
				}
			}
		})
		// Text may say "javascript:" (escaped, not a link); no markup may.
		assert.NotRegexp(t, `(?i)(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):`, out, src)
		assert.NotContains(t, strings.ToLower(out), "<script", src)
	}

	out := models.RenderArticle("# Title\n\nSee [the docs](https://docs.example/a?b=1&c=2) or https://auto.example, mail <help@example.com>.\n\n- **one**\n- `two`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![logo](https://img.example/l.png)")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(out))
	require.NoError(t, err)
	assert.Equal(t, "Title", doc.Find("h1").Text())
	assert.Equal(t, 3, doc.Find("a").Length(), out)
	doc.Find("a").Each(func(_ int, s *goquery.Selection) {
		rel, _ := s.Attr("rel")
		assert.Equal(t, "nofollow noopener", rel, out)
	})
	href, _ := doc.Find("a").First().Attr("href")
	assert.Equal(t, "https://docs.example/a?b=1&c=2", href)
	assert.Equal(t, 1, doc.Find("table td").Length()/2)
	assert.Equal(t, 1, doc.Find("strong").Length())
	src, _ := doc.Find("img").Attr("src")
	assert.Equal(t, "https://img.example/l.png", src)
	// Unsafe links keep their text.
	assert.Contains(t, models.RenderArticle("[click me](javascript:alert(1))"), "click me")
}

func TestArticleExcerpt(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "Title Some bold text and a link.", models.ArticleExcerpt("# Title\n\nSome **bold** text and [a link](https://x.example).", 100))
	ex := models.ArticleExcerpt(strings.Repeat("word ", 100), 20)
	assert.Equal(t, 20, len([]rune(ex)))
	assert.True(t, strings.HasSuffix(ex, "…"))
	assert.Equal(t, "<b>", models.ArticleExcerpt("`<b>`", 20), "plain text, escaped where shown")
}

func newArticle(t *testing.T, db *gorm.DB, admin *models.User, in models.ArticleInput) *models.Article {
	t.Helper()
	a, err := factory.Write1(db, func(tx models.Tx) (*models.Article, error) {
		return models.CreateArticle(context.Background(), tx, admin, in)
	})
	require.NoError(t, err)
	return a
}

func articleCount(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Model(&models.Article{}).Count(&n).Error)
	return n
}

// Bad input is a ValidationError beside its field, and nothing is stored;
// only admins manage articles; every change records an article event.
func TestArticleValidationAndRights(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin})
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	first := newArticle(t, db, admin, models.ArticleInput{Title: "Reset your password", Body: "Go to **Account**.", Language: "en", Published: true})
	assert.Equal(t, "reset-your-password", first.Slug)

	ok := models.ArticleInput{Title: "T", Body: "B", Language: "fr"}
	for _, tc := range []struct {
		name        string
		in          models.ArticleInput
		field, code string
	}{
		{"empty title", models.ArticleInput{Title: "  ", Body: "B", Language: "en"}, "title", "kb_title_required"},
		{"long title", models.ArticleInput{Title: strings.Repeat("é", models.MaxArticleTitleLen+1), Body: "B", Language: "en"}, "title", "kb_title_too_long"},
		{"empty body", models.ArticleInput{Title: "T", Body: "\r\n ", Language: "en"}, "body", "kb_body_required"},
		{"long body", models.ArticleInput{Title: "T", Body: strings.Repeat("x", models.MaxArticleBodyLen+1), Language: "en"}, "body", "kb_body_too_long"},
		{"duplicate slug", models.ArticleInput{Title: "Reset your password", Body: "B", Language: "fr"}, "slug", "kb_slug_taken"},
		{"duplicate explicit slug", models.ArticleInput{Title: "Other", Slug: "reset-your-password", Body: "B", Language: "fr"}, "slug", "kb_slug_taken"},
		{"bad slug", models.ArticleInput{Title: "T", Slug: "Not A Slug", Body: "B", Language: "en"}, "slug", "kb_slug_invalid"},
		{"symbols only", models.ArticleInput{Title: "日本語", Body: "B", Language: "en"}, "slug", "kb_slug_required"},
		{"unknown language", models.ArticleInput{Title: "T", Body: "B", Language: "de"}, "language", "kb_language_unknown"},
		{"no language", models.ArticleInput{Title: "T", Body: "B"}, "language", "kb_language_unknown"},
	} {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Article, error) { return models.CreateArticle(ctx, tx, admin, tc.in) })
		assert.Equal(t, tc.code, fieldCode(t, err, tc.field), tc.name)
	}
	assert.EqualValues(t, 1, articleCount(t, db), "nothing stored")

	// An update to a taken slug is refused the same way, and changes nothing.
	second := newArticle(t, db, admin, ok)
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Article, error) {
		return models.UpdateArticle(ctx, tx, admin, second.ID, models.ArticleInput{Title: "T2", Slug: first.Slug, Body: "B2", Language: "fr"})
	})
	assert.Equal(t, "kb_slug_taken", fieldCode(t, err, "slug"))
	got, err := models.FindArticle(ctx, db, admin, second.ID)
	require.NoError(t, err)
	assert.Equal(t, "T", got.Title)

	// Agents manage nothing and see no drafts.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Article, error) { return models.CreateArticle(ctx, tx, agent, ok) })
	assert.ErrorIs(t, err, models.ErrForbidden)
	err = factory.Write(db, func(tx models.Tx) error { return models.DeleteArticle(ctx, tx, agent, first.ID) })
	assert.ErrorIs(t, err, models.ErrForbidden)
	_, err = models.FindArticle(ctx, db, agent, second.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)

	// Drafts are never public.
	_, err = models.PublicArticle(ctx, db, second.Slug)
	assert.ErrorIs(t, err, models.ErrNotFound)
	pub, err := models.PublicArticle(ctx, db, first.Slug)
	require.NoError(t, err)
	assert.Equal(t, first.ID, pub.ID)

	var kinds []string
	require.NoError(t, db.Raw("SELECT data->>'action' FROM events WHERE kind = 'article' ORDER BY id").Scan(&kinds).Error)
	assert.Equal(t, []string{models.ArticleCreated, models.ArticleCreated}, kinds)
}

// Search works per language (stemming), as you type (a prefix), and only
// over published articles unless drafts are asked for.
func TestSearchArticles(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin})
	en := newArticle(t, db, admin, models.ArticleInput{Title: "Resetting passwords", Body: "Open the account page and choose a new password.", Language: "en", Published: true})
	pt := newArticle(t, db, admin, models.ArticleInput{Title: "Redefinir senhas", Body: "Abra a página da conta e escolha uma nova senha.", Language: "pt-BR", Published: true})
	fr := newArticle(t, db, admin, models.ArticleInput{Title: "Réinitialiser les mots de passe", Body: "Ouvrez la page du compte et choisissez un nouveau mot de passe.", Language: "fr", Published: true})
	draft := newArticle(t, db, admin, models.ArticleInput{Title: "Password policy draft", Body: "Secret plans.", Language: "en"})

	ids := func(s models.ArticleSearch) []int64 {
		hits, err := models.SearchArticles(ctx, db, s)
		require.NoError(t, err)
		var out []int64
		for _, h := range hits {
			out = append(out, h.ID)
			assert.NotEmpty(t, h.Excerpt)
		}
		return out
	}
	assert.Equal(t, []int64{en.ID}, ids(models.ArticleSearch{Query: "reset password"}), "english stemming")
	assert.Equal(t, []int64{en.ID}, ids(models.ArticleSearch{Query: "passw"}), "prefix as you type; the draft is not searched")
	assert.ElementsMatch(t, []int64{en.ID, draft.ID}, ids(models.ArticleSearch{Query: "password", Drafts: true}))
	assert.Equal(t, []int64{pt.ID}, ids(models.ArticleSearch{Query: "senha"}), "portuguese")
	assert.Equal(t, []int64{fr.ID}, ids(models.ArticleSearch{Query: "choisir"}), "french stemming")
	assert.Equal(t, []int64{fr.ID}, ids(models.ArticleSearch{Query: "réinitialis"}))
	assert.Empty(t, ids(models.ArticleSearch{Query: "senha", Language: "en"}))
	assert.Empty(t, ids(models.ArticleSearch{Query: "zebra"}))
	assert.Empty(t, ids(models.ArticleSearch{Query: "!!! ::: '\\"}), "syntax only")
	assert.Equal(t, []int64{pt.ID}, ids(models.ArticleSearch{Query: "senha:* | ! & ('"}), "tsquery syntax is text")
	all := ids(models.ArticleSearch{Prefer: "fr"})
	assert.Len(t, all, 3, "an empty query lists published articles")
	assert.Equal(t, fr.ID, all[0], "the preferred language first")
}

// A sent article is a reply carrying it; its card reads the article as it
// is now: the new title after an edit, unavailable to customers once a
// draft or deleted. Drafts cannot be sent; teammate chats get none.
func TestSendArticle(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin, CustomerSupport: true})
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	other := factory.User(t, db, factory.UserOpts{})
	_, cust := factory.Customer(t, db)
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
	a := newArticle(t, db, admin, models.ArticleInput{Title: "How to export", Body: "Click **Export**.", Language: "en", Published: true})
	draft := newArticle(t, db, admin, models.ArticleInput{Title: "Draft", Body: "Not yet.", Language: "en"})

	send := func(u *models.User, c *models.Conversation, id int64) (*models.Message, error) {
		return factory.Write1(db, func(tx models.Tx) (*models.Message, error) { return models.SendArticle(ctx, tx, u, c, id, "") })
	}
	before := messageCount(t, db, conv.ID)
	_, err := send(agent, conv, draft.ID)
	assert.Equal(t, "kb_article_unavailable", fieldCode(t, err, "article"))
	_, err = send(agent, conv, 999999)
	assert.Equal(t, "kb_article_unavailable", fieldCode(t, err, "article"))
	_, err = send(other, conv, a.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, agent, []int64{other.ID}, "hi")
	})
	require.NoError(t, err)
	_, err = send(agent, internal, a.ID)
	assert.Equal(t, "kb_customer_only", fieldCode(t, err, "article"))
	assert.Equal(t, before, messageCount(t, db, conv.ID), "nothing stored")

	m, err := send(agent, conv, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "How to export", m.Body)
	assert.True(t, m.ArticleSent)

	card := func() *models.Message {
		p, err := models.ListMessagesBefore(ctx, db, conv, true, 0, 0)
		require.NoError(t, err)
		for i := range p.Messages {
			if p.Messages[i].ID == m.ID {
				return &p.Messages[i]
			}
		}
		t.Fatal("the customer does not see the article message")
		return nil
	}
	got := card()
	require.NotNil(t, got.Article)
	assert.Equal(t, "How to export", got.Article.Title)
	assert.True(t, got.Article.Published)
	assert.Equal(t, "Click Export.", got.Article.Excerpt)

	_, err = factory.Write1(db, func(tx models.Tx) (*models.Article, error) {
		return models.UpdateArticle(ctx, tx, admin, a.ID, models.ArticleInput{Title: "Exporting your data", Slug: a.Slug, Body: "New.", Language: "en"})
	})
	require.NoError(t, err)
	got = card()
	assert.Equal(t, "Exporting your data", got.Article.Title, "the current title")
	assert.False(t, got.Article.Published, "a draft again: unavailable to customers")

	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.DeleteArticle(ctx, tx, admin, a.ID) }))
	got = card()
	assert.True(t, got.ArticleSent)
	assert.Nil(t, got.Article, "deleted: the card says unavailable")
	assert.Nil(t, got.ArticleID)

	byID, err := models.MessagesByID(ctx, db, []int64{m.ID})
	require.NoError(t, err)
	assert.True(t, byID[m.ID].ArticleSent)
}

// Article.VisibleToCustomer and its SQL form agree.
func TestArticleAccessGoAndSQLAgree(t *testing.T) {
	t.Parallel()
	db := setup(t)
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin})
	var as []*models.Article
	for i, pub := range []bool{true, false, true, false} {
		as = append(as, newArticle(t, db, admin, models.ArticleInput{Title: "A " + string(rune('a'+i)), Body: "B", Language: "en", Published: pub}))
	}
	for _, a := range as {
		_, err := models.PublicArticle(context.Background(), db, a.Slug)
		assert.Equal(t, a.VisibleToCustomer(), err == nil, a.Slug)
	}
	assert.False(t, models.CanManageArticles(nil))
	assert.True(t, models.CanManageArticles(admin))
	assert.False(t, models.CanManageArticles(factory.User(t, db, factory.UserOpts{CustomerSupport: true})))
}
