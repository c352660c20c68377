package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

func articleRows(t *testing.T, e *testEnv) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Model(&models.Article{}).Count(&n).Error)
	return n
}

func articleBySlug(t *testing.T, e *testEnv, slug string) *models.Article {
	t.Helper()
	var a models.Article
	require.NoError(t, e.db.Select("id", "slug", "title", "published").Where("slug = ?", slug).Take(&a).Error)
	return &a
}

// Only admins manage articles (agents get 403 on every admin route); bad
// input is a 422 beside its field with nothing stored; posts need the CSRF
// token; the preview renders safely and stores nothing.
func TestArticleAdminRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	admin := e.browser()
	admin.login("ada@example.com")

	page := admin.get("/admin/articles")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, 1, page.doc.Find(`a.nav-link[href="/admin/articles"]`).Length(), "in the admin navigation")

	good := url.Values{"title": {"Reset your password"}, "body": {"Open **Account**."}, "language": {"en"}, "published": {"1"}}
	res := admin.post("/admin/articles", good)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	a := articleBySlug(t, e, "reset-your-password")
	assert.True(t, a.Published)

	for name, tc := range map[string]struct {
		change url.Values
		field  string
	}{
		"empty title":    {url.Values{"title": {" "}}, "title"},
		"long title":     {url.Values{"title": {strings.Repeat("t", models.MaxArticleTitleLen+1)}}, "title"},
		"empty body":     {url.Values{"body": {""}}, "body"},
		"long body":      {url.Values{"body": {strings.Repeat("b", models.MaxArticleBodyLen+1)}}, "body"},
		"taken slug":     {url.Values{"slug": {"reset-your-password"}}, "slug"},
		"bad slug":       {url.Values{"slug": {"Bad Slug!"}}, "slug"},
		"unknown lang":   {url.Values{"language": {"de"}}, "language"},
		"missing lang":   {url.Values{"language": {""}}, "language"},
		"taken by title": {url.Values{"slug": {""}}, "slug"},
	} {
		v := url.Values{"title": {"Reset your password"}, "body": {"Other"}, "language": {"fr"}}
		if name != "taken by title" {
			v.Set("slug", "other-"+strings.ReplaceAll(name, " ", "-"))
		}
		for k, vs := range tc.change {
			v[k] = vs
		}
		res := admin.post("/admin/articles", v)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, name)
		assert.NotEmpty(t, res.text("#e-"+tc.field), "%s: the reason beside %s", name, tc.field)
		assert.Equal(t, "true", res.doc.Find("#f-"+tc.field).AttrOr("aria-invalid", ""), name)
	}
	assert.EqualValues(t, 1, articleRows(t, e), "nothing stored")

	// The edit form, a refused update that changes nothing, then a good one.
	edit := "/admin/articles/" + idStr(a.ID)
	require.Equal(t, http.StatusOK, admin.get(edit+"/edit").StatusCode)
	res = admin.post(edit, url.Values{"title": {""}, "body": {"x"}, "language": {"en"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Reset your password", articleBySlug(t, e, "reset-your-password").Title)
	res = admin.post(edit, url.Values{"title": {"Resetting a password"}, "slug": {"reset-your-password"}, "body": {"New"}, "language": {"en"}, "published": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	assert.Equal(t, "Resetting a password", articleBySlug(t, e, "reset-your-password").Title)

	// CSRF: a forged token changes nothing.
	res = admin.post("/admin/articles", url.Values{"title": {"X"}, "body": {"Y"}, "language": {"en"}, "_csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res = admin.post(edit+"/delete", url.Values{"_csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.EqualValues(t, 1, articleRows(t, e))

	// The preview is rendered safely and stores nothing.
	res = admin.post("/admin/articles/preview", url.Values{"title": {"<b>T</b>"}, "body": {"Hi <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://ok.example)"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Zero(t, res.doc.Find("script").Length(), res.body)
	assert.Equal(t, "<b>T</b>", res.text(".kb-article h1"), "the title is text")
	links := res.doc.Find(".kb-article a")
	require.Equal(t, 1, links.Length(), res.body)
	assert.Equal(t, "https://ok.example", links.AttrOr("href", ""))
	assert.Equal(t, "nofollow noopener", links.AttrOr("rel", ""))
	assert.EqualValues(t, 1, articleRows(t, e))

	// Agents: none of it.
	sam := e.browser()
	sam.login("sam@example.com")
	for _, r := range []struct{ method, path string }{
		{"GET", "/admin/articles"}, {"GET", "/admin/articles/new"}, {"GET", edit + "/edit"},
		{"POST", "/admin/articles"}, {"POST", edit}, {"POST", edit + "/delete"}, {"POST", "/admin/articles/preview"},
	} {
		var res *response
		if r.method == "GET" {
			res = sam.get(r.path)
		} else {
			res = sam.post(r.path, url.Values{"title": {"Mine"}, "body": {"B"}, "language": {"en"}})
		}
		assert.Equal(t, http.StatusForbidden, res.StatusCode, r.path)
	}
	assert.Equal(t, "Resetting a password", articleBySlug(t, e, "reset-your-password").Title)
	// Signed out: to the sign-in page.
	res = e.browser().get("/admin/articles")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)

	res = admin.post(edit+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Zero(t, articleRows(t, e))
	assert.Equal(t, http.StatusNotFound, admin.get(edit+"/edit").StatusCode)
}

// The public page shows published articles only (drafts and unknown slugs
// are 404), rendered safely, in its own language under translated chrome;
// the widget's search finds published articles only.
func TestHelpPageAndWidgetSearch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	admin := e.browser()
	admin.login("ada@example.com")
	require.Equal(t, http.StatusSeeOther, admin.post("/admin/articles", url.Values{"title": {"Exporter vos données"}, "language": {"fr"}, "published": {"1"},
		"body": {"Cliquez sur **Exporter**.\n\n<script>alert(1)</script>\n\n[piège](javascript:alert(1)) et [docs](https://docs.example)"}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, admin.post("/admin/articles", url.Values{"title": {"Secret export plans"}, "language": {"en"},
		"body": {"Draft."}}).StatusCode)

	anon := e.browser()
	res := anon.get("/help/exporter-vos-donnees", "Accept-Language", "pt-BR")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, "Exporter vos données", res.text("#help-article h1"))
	assert.Equal(t, "fr", res.doc.Find("#help-article").AttrOr("lang", ""))
	assert.Equal(t, "pt-BR", res.doc.Find("html").AttrOr("lang", ""), "the chrome in the reader's language")
	assert.Contains(t, res.text(".help-header"), "Ajuda")
	assert.Zero(t, res.doc.Find("script").Length(), "no script at all on the page")
	assert.Equal(t, "Exporter", res.text("#help-article strong"))
	a := res.doc.Find("#help-article a")
	require.Equal(t, 1, a.Length(), res.body)
	assert.Equal(t, "https://docs.example", a.AttrOr("href", ""))
	assert.Equal(t, "nofollow noopener", a.AttrOr("rel", ""))
	assert.NotContains(t, strings.ToLower(res.body), "javascript:")
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'")

	assert.Equal(t, http.StatusNotFound, anon.get("/help/secret-export-plans").StatusCode, "a draft is not public")
	assert.Equal(t, http.StatusNotFound, anon.get("/help/no-such-article").StatusCode)
	assert.Equal(t, http.StatusNotFound, anon.get("/help/..%2Fadmin").StatusCode)

	w := e.newVisitor()
	home := w.get("/widget/home")
	require.Equal(t, http.StatusOK, home.StatusCode)
	require.Equal(t, 1, home.doc.Find("#w-kb-q").Length(), "the widget's start view has the search box")
	res = w.get("/widget/articles?q=export")
	require.Equal(t, http.StatusOK, res.StatusCode)
	hits := res.doc.Find("#w-kb-results a.w-kb-result")
	require.Equal(t, 1, hits.Length(), "the draft is not found: %s", res.body)
	assert.Equal(t, "/help/exporter-vos-donnees", hits.AttrOr("href", ""))
	assert.Equal(t, "_blank", hits.AttrOr("target", ""))
	res = w.get("/widget/articles?q=secret")
	assert.Zero(t, res.doc.Find("a.w-kb-result").Length())
	assert.NotEmpty(t, res.text("#w-kb-results"), "says nothing matched")
}

// An agent finds and sends an article; the customer's card shows it (title,
// excerpt, Open to the public page), then its current title after an edit,
// and "unavailable" after it is unpublished or deleted. Drafts cannot be
// sent; staff without customer rights and forged tokens get nothing.
func TestSendArticleHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	admin := e.browser()
	admin.login("ada@example.com")
	require.Equal(t, http.StatusSeeOther, admin.post("/admin/articles", url.Values{"title": {"Export your data"}, "language": {"en"}, "published": {"1"}, "body": {"Click **Export** in Settings."}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, admin.post("/admin/articles", url.Values{"title": {"Export draft"}, "language": {"en"}, "body": {"Not yet."}}).StatusCode)
	pub, draft := articleBySlug(t, e, "export-your-data"), articleBySlug(t, e, "export-draft")

	w := e.newVisitor()
	pid := w.start("How do I export?")
	sam := e.browser()
	sam.login("sam@example.com")
	page := sam.get("/conversations/" + pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Equal(t, 1, page.doc.Find("#composer #article-button").Length(), "the Article button in the composer")
	require.Equal(t, 1, page.doc.Find("#article-picker").Length())

	picker := sam.get("/conversations/"+pid+"/articles?q=expo", "HX-Request", "true")
	require.Equal(t, http.StatusOK, picker.StatusCode)
	results := picker.doc.Find("#article-results [data-article]")
	require.Equal(t, 1, results.Length(), "published only: %s", picker.body)
	assert.Equal(t, idStr(pub.ID), results.AttrOr("data-article", ""))

	send := func(b *browser, id int64, extra ...string) *response {
		return b.post("/conversations/"+pid+"/articles/"+idStr(id), nil, append([]string{"HX-Request", "true"}, extra...)...)
	}
	countSent := func() int64 {
		var n int64
		require.NoError(t, e.db.Model(&models.Message{}).Where("article_sent").Count(&n).Error)
		return n
	}
	res := send(sam, draft.ID)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.text("#article-picker-title"), "the picker again")
	assert.NotEmpty(t, res.text(".alert-error"), "with the reason")
	assert.Equal(t, http.StatusUnprocessableEntity, send(sam, 999999).StatusCode, "unknown: the same")
	res = sam.post("/conversations/"+pid+"/articles/"+idStr(pub.ID), url.Values{"_csrf": {"forged"}}, "HX-Request", "true")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, send(pat, pub.ID).StatusCode)
	assert.Equal(t, http.StatusNotFound, pat.get("/conversations/"+pid+"/articles").StatusCode)
	assert.Zero(t, countSent(), "nothing stored")

	res = send(sam, pub.ID, "Idempotency-Key", "kb-send-0001")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	res = send(sam, pub.ID, "Idempotency-Key", "kb-send-0001")
	require.Equal(t, http.StatusOK, res.StatusCode, "a retry")
	assert.EqualValues(t, 1, countSent(), "stored once")

	card := func() *response {
		thread := w.get("/widget/conversations/" + pid)
		require.Equal(t, http.StatusOK, thread.StatusCode)
		return thread
	}
	thread := card()
	open := thread.doc.Find(".w-article a.w-article-open")
	require.Equal(t, 1, open.Length(), thread.body)
	assert.Equal(t, "/help/export-your-data", open.AttrOr("href", ""))
	assert.Equal(t, "Export your data", thread.text(".w-article-title"))
	assert.Equal(t, "Click Export in Settings.", thread.text(".w-article-excerpt"))
	desk := sam.get("/conversations/" + pid)
	assert.Equal(t, "Export your data", desk.text(".article-card .article-card-title"))

	edit := "/admin/articles/" + idStr(pub.ID)
	require.Equal(t, http.StatusSeeOther, admin.post(edit, url.Values{"title": {"Exporting everything"}, "slug": {"export-your-data"}, "language": {"en"}, "published": {"1"}, "body": {"New text."}}).StatusCode)
	assert.Equal(t, "Exporting everything", card().text(".w-article-title"), "the current title")
	require.Equal(t, http.StatusSeeOther, admin.post(edit, url.Values{"title": {"Exporting everything"}, "slug": {"export-your-data"}, "language": {"en"}, "body": {"New text."}}).StatusCode)
	thread = card()
	assert.Zero(t, thread.doc.Find(".w-article-open").Length(), "a draft again: no link")
	assert.NotEmpty(t, thread.text(".w-article-gone"))
	require.Equal(t, http.StatusSeeOther, admin.post(edit+"/delete", nil).StatusCode)
	thread = card()
	assert.Zero(t, thread.doc.Find(".w-article-open").Length())
	assert.Equal(t, "This article is no longer available.", thread.text(".w-article-gone"))
	assert.Equal(t, "This article is no longer available.", sam.get("/conversations/"+pid).text(".article-card-gone"))
}
