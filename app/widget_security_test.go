package app

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// A visitor token reads and writes only its own conversations: anything
// else — another visitor's, an internal one, an unknown or malformed id —
// is the same 404, and no token at all is a 401.
func TestWidgetVisitorSeesOnlyOwnConversations(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	alice, bob := e.newVisitor(), e.newVisitor()
	pid := alice.start("Alice's order question")

	res := alice.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.text("#w-thread"), "Alice's order question")

	admin := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	internal, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, admin, []int64{e.user("Bo", "bo@example.com", models.RoleAgent, true).ID}, "staff only")
	})
	require.NoError(t, err)

	before := countMessages(t, e)
	foreign := map[string]string{
		"another visitor's":  pid,
		"internal":           internal.PublicID,
		"random uuid":        "7d9c3c1e-2f0a-4b8e-9a51-3f7f2b1f0c11",
		"garbage":            "not-a-uuid",
		"sql-ish":            "x' OR '1'='1",
		"encoded traversal":  url.PathEscape("../../admin"),
		"uppercase of valid": strings.ToUpper(pid),
	}
	for name, id := range foreign {
		assert.Equal(t, http.StatusNotFound, bob.get("/widget/conversations/"+id).StatusCode, name)
		assert.Equal(t, http.StatusNotFound, bob.post("/widget/conversations/"+id+"/messages", url.Values{"body": {"hi"}}).StatusCode, name)
		if name != "another visitor's" && name != "uppercase of valid" {
			assert.Equal(t, http.StatusNotFound, alice.get("/widget/conversations/"+id).StatusCode, name)
		}
	}
	s := bob.stream(t, e.app.rt.Cursor(), pid)
	<-s.done
	assert.Equal(t, http.StatusNotFound, s.status, "no stream of someone else's conversation")
	assert.Equal(t, before, countMessages(t, e), "nothing was written")

	home := bob.get("/widget/home")
	require.Equal(t, http.StatusOK, home.StatusCode)
	assert.NotContains(t, home.body, pid)
	assert.NotContains(t, home.body, "Alice")
	assert.Contains(t, alice.get("/widget/home").text("#w-convs"), "Alice's order question")

	// No token, or one nobody issued: 401 (the frame then starts afresh).
	anon := &widgetClient{e: e, b: e.browser()}
	assert.Equal(t, http.StatusUnauthorized, anon.get("/widget/home").StatusCode)
	assert.Equal(t, http.StatusNotFound, anon.get("/widget/no-such-thing").StatusCode)
	anon.token = "made-up-token-made-up-token-made-up-token"
	assert.Equal(t, http.StatusUnauthorized, anon.get("/widget/conversations/"+pid).StatusCode)
	assert.Equal(t, http.StatusUnauthorized, anon.post("/widget/conversations", url.Values{"body": {"x"}}).StatusCode)
}

// Internal notes and internal conversations never reach a widget: not in
// the page, not in the stream.
func TestWidgetNeverShowsNotesOrInternalConversations(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	agent := e.user("Agent Smith", "smith@example.com", models.RoleAgent, true)
	other := e.user("Other", "other@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("Help please")
	conv, err := models.FindConversationForCustomer(ctx, e.db, w.visitor().CustomerID, pid)
	require.NoError(t, err)

	since := e.app.rt.Cursor()
	thread := w.stream(t, since, pid)
	home := w.stream(t, since, "")

	note, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageNote, "SECRET NOTE about the customer")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, agent, conv, &other.ID) }))
	_, _, err = factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, agent, []int64{other.ID}, "INTERNAL CHAT between agents")
	})
	require.NoError(t, err)
	reply, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageText, "Visible reply from the team")
	})
	require.NoError(t, err)
	e.app.rt.Ring()

	// Events arrive in order: once the reply's event is there, the note
	// (written before it) would have been too. (Wait for the reply's own
	// event: the home view's list may show its text a batch earlier.)
	for name, s := range map[string]*testStream{"thread": thread, "home": home} {
		s.waitFor("event: notify\ndata: m-" + strconv.FormatInt(reply.ID, 10))
		got := s.waitFor("Visible reply from the team")
		assert.NotContains(t, got, "SECRET NOTE", name)
		assert.NotContains(t, got, "INTERNAL CHAT", name)
		assert.NotContains(t, got, "m-"+strconv.FormatInt(note.ID, 10), name)
		assert.NotContains(t, got, "Other", name+": staff-only status lines (assignment) stay out")
	}

	page := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.text("#w-thread"), "Visible reply from the team")
	assert.NotContains(t, page.body, "SECRET NOTE")
	assert.NotContains(t, page.body, "Other")
	assert.NotContains(t, w.get("/widget/home").body, "INTERNAL CHAT")
}

// Message text is escaped everywhere; links are made only from http(s) URLs
// and cannot carry attributes or scripts.
func TestWidgetEscapesMessagesAndLinksSafely(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	agent := e.user("Agent", "agent@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	bodies := []string{
		`<script>alert("x")</script>`,
		`<img src=x onerror=alert(1)>`,
		`javascript:alert(1) and JAVASCRIPT://%0aalert(1)`,
		`http://evil.test/"onmouseover="alert(1)" x="`,
		"see https://example.com/a?b=1&c=2. or (https://example.org/x_(y)) ok",
	}
	pid := w.start(bodies[0])
	for _, b := range bodies[1:] {
		require.Equal(t, http.StatusOK, w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {b}}).StatusCode)
	}
	conv, err := models.FindConversationForCustomer(ctx, e.db, w.visitor().CustomerID, pid)
	require.NoError(t, err)
	since := e.app.rt.Cursor()
	s := w.stream(t, since, pid)
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageText, `<img src=x onerror=alert(2)> https://docs.example.com/help`)
	})
	require.NoError(t, err)
	e.app.rt.Ring()
	streamed := s.waitFor("docs.example.com")

	page := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	docs := map[string]*goquery.Document{"page": page.doc}
	var data []string
	for _, line := range strings.Split(streamed, "\n") {
		if strings.HasPrefix(line, "data: ") {
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
	sdoc, err := goquery.NewDocumentFromReader(strings.NewReader(strings.Join(data, "\n")))
	require.NoError(t, err)
	docs["stream"] = sdoc

	for name, doc := range docs {
		thread := doc.Find(".w-msg")
		require.NotZero(t, thread.Length(), name)
		assert.Zero(t, thread.Find("script, img").Length(), name+": markup in a message stays text")
		thread.Find("*").Each(func(_ int, el *goquery.Selection) {
			for _, a := range el.Nodes[0].Attr {
				assert.False(t, strings.HasPrefix(strings.ToLower(a.Key), "on"), "%s: event handler attribute %q", name, a.Key)
			}
		})
		thread.Find("a").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			assert.True(t, strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://"), "%s: href %q", name, href)
			rel, _ := a.Attr("rel")
			assert.Equal(t, "noopener nofollow ugc", rel)
			target, _ := a.Attr("target")
			assert.Equal(t, "_blank", target)
		})
	}
	texts := page.doc.Find(".w-msg-body").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	for _, b := range bodies {
		assert.Contains(t, texts, b, "shown exactly as written")
	}
	links := page.doc.Find(".w-msg-body a").Map(func(_ int, s *goquery.Selection) string { h, _ := s.Attr("href"); return h })
	assert.Contains(t, links, "https://example.com/a?b=1&c=2", "trailing full stop is not part of the link")
	assert.Contains(t, links, "https://example.org/x_(y)", "balanced brackets stay, the closing one of the sentence goes")
	for _, l := range links {
		assert.NotContains(t, l, `"`)
		assert.NotContains(t, strings.ToLower(l), "javascript")
	}
	assert.Contains(t, sdoc.Find(".w-msg-body").Text(), "<img src=x onerror=alert(2)>")
	assert.Equal(t, 1, sdoc.Find(`.w-msg-body a[href="https://docs.example.com/help"]`).Length())
}

// The widget's write endpoints are rate-limited per visitor and per IP,
// with Retry-After and a translated message; nothing refused is stored.
func TestWidgetRateLimits(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{widgetLimits: &WidgetLimits{VisitorPosts: 3, IPPosts: 5, IPVisitors: 2}})

	// New visitors per IP.
	e.newVisitor("10.1.1.1")
	e.newVisitor("10.1.1.1")
	c := &widgetClient{e: e, b: e.browser(), ip: "10.1.1.1"}
	res := c.post("/widget/api/visitors", nil)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Contains(t, res.body, "too quickly")
	e.newVisitor("10.1.1.2") // another address is not affected

	// Per visitor: the start and two messages fit, the fourth write does not.
	w := e.newVisitor("10.2.2.2")
	pid := w.start("one")
	for _, b := range []string{"two", "three"} {
		require.Equal(t, http.StatusOK, w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {b}}).StatusCode)
	}
	before := countMessages(t, e)
	res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"four"}})
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.True(t, retry >= 1 && retry <= 20, "Retry-After %d", retry)
	assert.Contains(t, res.Header.Get("HX-Trigger"), "You are sending messages too quickly")
	assert.Equal(t, before, countMessages(t, e), "a refused message is not stored")
	w.lang = "fr"
	res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"cinq"}})
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Contains(t, res.Header.Get("HX-Trigger"), "Vous envoyez des messages trop vite")

	// Per IP: two visitors behind one address share its allowance.
	x, y := e.newVisitor("10.3.3.3"), e.newVisitor("10.3.3.3")
	xp := x.start("x1")
	x.post("/widget/conversations/"+xp+"/messages", url.Values{"body": {"x2"}})
	x.post("/widget/conversations/"+xp+"/messages", url.Values{"body": {"x3"}})
	yp := y.start("y1")
	require.Equal(t, http.StatusOK, y.post("/widget/conversations/"+yp+"/messages", url.Values{"body": {"y2"}}).StatusCode)
	res = y.post("/widget/conversations/"+yp+"/messages", url.Values{"body": {"y3"}})
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the address used up its 5 writes")
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
}

// Bodies over 10,000 characters are refused beside the composer, with the
// text kept, and nothing is stored.
func TestWidgetMessageTooLong(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.newVisitor()
	long := strings.Repeat("a", models.MaxMessageLen+1)

	res := w.post("/widget/conversations", url.Values{"body": {long}, "email": {"v@example.com"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Messages can be at most 10000 characters (this one has 10001).", res.text("#w-start-body-error"))
	assert.Equal(t, long, res.doc.Find("#w-start-body").Text(), "the text is kept")
	assert.Zero(t, countMessages(t, e))
	assert.Empty(t, w.visitor().Customer.Email, "nothing from the rejected form is stored")

	pid := w.start("short")
	before := countMessages(t, e)
	res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {long}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Messages can be at most 10000 characters (this one has 10001).", res.text("#w-body-error"))
	assert.Equal(t, long, res.doc.Find("#w-body").Text())
	assert.Equal(t, before, countMessages(t, e))

	res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {strings.Repeat("é", models.MaxMessageLen)}})
	require.Equal(t, http.StatusOK, res.StatusCode, "exactly the limit (in characters, not bytes) is fine")
	res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {strings.Repeat("x", 300<<10)}})
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, "an oversized body is refused before it is read")
	res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"   "}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Write a message first.", res.text("#w-body-error"))
}

// The frame may be embedded by Parley itself and exactly the allowed sites;
// staff pages never. The demo page goes away when turned off.
func TestWidgetFrameAncestorsAndDemo(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	save := func(origins string, demo bool) {
		require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
			return models.UpdateSettings(ctx, tx, models.SettingsInput{
				DeskName: "Acme Support", BrandColor: "#0f766e", AllowedOrigins: origins, DemoEnabled: demo})
		}))
	}
	ancestors := func(csp string) []string {
		for _, d := range strings.Split(csp, ";") {
			f := strings.Fields(d)
			if len(f) > 0 && f[0] == "frame-ancestors" {
				return f[1:]
			}
		}
		return nil
	}
	w := &widgetClient{e: e, b: e.browser()}

	res := w.get("/widget/frame")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, []string{"'self'"}, ancestors(res.Header.Get("Content-Security-Policy")))
	assert.Empty(t, res.Header.Get("X-Frame-Options"))

	save("https://shop.example.com\nhttp://localhost:3000/, https://blog.example.org", true)
	res = w.get("/widget/frame")
	csp := res.Header.Get("Content-Security-Policy")
	assert.Equal(t, []string{"'self'", "https://shop.example.com", "http://localhost:3000", "https://blog.example.org"}, ancestors(csp))
	assert.Contains(t, csp, "script-src 'self'")
	assert.Contains(t, csp, "style-src 'self'")
	assert.NotContains(t, csp, "unsafe")
	assert.Empty(t, res.Header.Get("X-Frame-Options"))
	assert.Equal(t, "Acme Support", res.text("#w-title"))
	theme, _ := res.doc.Find("#w-theme").Attr("href")
	css := w.get(theme)
	assert.Contains(t, css.body, "--brand:#0f766e")
	assert.Contains(t, css.Header.Get("Cache-Control"), "immutable")

	// Staff pages keep refusing to be framed.
	staff := e.browser().get("/login")
	assert.Equal(t, "DENY", staff.Header.Get("X-Frame-Options"))
	assert.Equal(t, []string(nil), ancestors(strings.ReplaceAll(staff.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'", "")))

	demo := e.browser().get("/demo")
	require.Equal(t, http.StatusOK, demo.StatusCode)
	src, _ := demo.doc.Find("script[async]").Attr("src")
	assert.Equal(t, "/widget.js", src)
	save("", false)
	assert.Equal(t, http.StatusNotFound, e.browser().get("/demo").StatusCode)
}

// A valid signature links two browsers to one customer; a forged one or an
// unsigned identity links nothing; requiring signed identities stops
// anonymous visitors with a clear message.
func TestWidgetSignedIdentity(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	settings, err := models.GetSettings(ctx, e.db)
	require.NoError(t, err)
	sig := models.IdentitySignature(settings.WidgetSecret, "user-77", "ada@example.com")
	identify := func(w *widgetClient, id, email, signature string) int {
		return w.post("/widget/api/identify", url.Values{"id": {id}, "email": {email}, "name": {"Ada"}, "signature": {signature}}).StatusCode
	}

	laptop, phone := e.newVisitor(), e.newVisitor()
	pid := laptop.start("From my laptop") // anonymous first: follows the sign-in
	require.Equal(t, http.StatusNoContent, identify(laptop, "user-77", "Ada@Example.com", sig))
	require.Equal(t, http.StatusNoContent, identify(phone, "user-77", "ada@example.com", strings.ToUpper(sig)))
	assert.Equal(t, laptop.visitor().CustomerID, phone.visitor().CustomerID)
	assert.True(t, phone.visitor().Customer.Verified)
	res := phone.get("/widget/home")
	assert.Contains(t, res.text("#w-convs"), "From my laptop")
	require.Equal(t, http.StatusOK, phone.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"and my phone"}}).StatusCode)
	assert.Contains(t, laptop.get("/widget/conversations/"+pid).text("#w-thread"), "and my phone")

	// Forged and unsigned claims to the same person get nothing.
	forger, claimer := e.newVisitor(), e.newVisitor()
	require.Equal(t, http.StatusNoContent, identify(forger, "user-77", "ada@example.com", strings.Repeat("0", 64)))
	require.Equal(t, http.StatusNoContent, identify(claimer, "user-77", "ada@example.com", ""))
	for _, w := range []*widgetClient{forger, claimer} {
		assert.NotEqual(t, laptop.visitor().CustomerID, w.visitor().CustomerID)
		assert.False(t, w.visitor().Customer.Verified)
		assert.Equal(t, http.StatusNotFound, w.get("/widget/conversations/"+pid).StatusCode)
		assert.NotContains(t, w.get("/widget/home").body, "From my laptop")
	}
	assert.Equal(t, "ada@example.com", claimer.visitor().Customer.Email, "unsigned details are kept, unverified")

	// Require signed identities.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{DeskName: "Support", BrandColor: "#2563eb", RequireSignedIdentity: true, DemoEnabled: true})
	}))
	anon := e.newVisitor()
	home := anon.get("/widget/home")
	assert.Contains(t, home.text("#w-identity-required"), "Please sign in on this website to chat with us")
	assert.Zero(t, home.doc.Find("#w-start").Length(), "no form to start a chat")
	before := countMessages(t, e)
	res = anon.post("/widget/conversations", url.Values{"body": {"let me in"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Header.Get("HX-Trigger"), "Please sign in on this website")
	assert.Equal(t, before, countMessages(t, e))
	assert.Equal(t, http.StatusForbidden, identify(anon, "user-77", "ada@example.com", "bad"))
	assert.Equal(t, http.StatusForbidden, claimer.post("/widget/conversations", url.Values{"body": {"x"}}).StatusCode)
	laptop.start("Signed visitors still can")
}
