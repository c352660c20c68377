package app

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// hostSite is another website (another origin: its own port) that embeds
// the widget with the real snippet. /broken points the snippet at a script
// that does not exist. Pages have a button of their own. A signed-in user
// of the site, if any, is passed as window.ParleySettings on /signed and as
// data- attributes on /signed-data.
func hostSite(t *testing.T, parleyURL string, user ...models.Identity) *httptest.Server {
	t.Helper()
	page := func(before, src, attrs string) string {
		return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Example shop</title></head>
<body><h1>Example shop</h1>
<button id="host-btn" type="button">Add to cart</button> <span id="host-out"></span>
<script>document.getElementById('host-btn').addEventListener('click', function () {
  document.getElementById('host-out').textContent = 'added';
});</script>
` + before + `<script async src="` + html.EscapeString(src) + `"` + attrs + `></script>
</body></html>`
	}
	pages := map[string]string{
		"/":       page("", parleyURL+"/widget.js", ""),
		"/broken": page("", parleyURL+"/no-such-dir/widget.js", ""),
	}
	if len(user) > 0 {
		u := user[0]
		settings, _ := json.Marshal(map[string]any{"user": map[string]string{"id": u.ExternalID, "email": u.Email, "name": u.Name, "signature": u.Signature}})
		pages["/signed"] = page("<script>window.ParleySettings = "+string(settings)+";</script>\n", parleyURL+"/widget.js", "")
		pages["/signed-data"] = page("", parleyURL+"/widget.js", fmt.Sprintf(` data-user-id="%s" data-user-email="%s" data-user-name="%s" data-user-signature="%s"`,
			html.EscapeString(u.ExternalID), html.EscapeString(u.Email), html.EscapeString(u.Name), html.EscapeString(u.Signature)))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// pressEnter presses Enter in the focused element as a keyboard does, with
// no separate character event (SendKeys' "\r" also types a newline that a
// page cancelling the keydown would never get from a real keyboard).
var pressEnter = enterKey(0, input.DispatchKeyEventTypeRawKeyDown)

// shiftEnter presses Shift+Enter, which a textarea turns into a new line
// unless the page cancels it.
var shiftEnter = enterKey(8, input.DispatchKeyEventTypeKeyDown)

func enterKey(modifiers int64, down input.DispatchKeyEventType) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{down, input.DispatchKeyEventTypeKeyUp} {
			p := input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter", Modifiers: modifiers,
				WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
			if typ == input.DispatchKeyEventTypeKeyDown {
				p.Text, p.UnmodifiedText = "\r", "\r"
			}
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// keepScreenshot saves the tab's screen when the test fails.
func keepScreenshot(t *testing.T, tab context.Context) {
	if !t.Failed() {
		return
	}
	dir := filepath.Join(os.TempDir(), "parley-e2e")
	os.MkdirAll(dir, 0o755)
	p := filepath.Join(dir, t.Name()+".png")
	if browsertest.Screenshot(tab, p) == nil {
		t.Logf("screenshot of the failure: %s", p)
	}
}

// inWidget makes a browsertest action act inside the widget's iframe.
var inWidget = browsertest.InFrame("iframe.parley-frame")

// frameNode returns the widget's iframe element on the host page; queries
// with chromedp.FromNode(node) run inside it (same site, different origin).
func frameNode(t *testing.T, tab context.Context) chromedp.QueryOption {
	t.Helper()
	nodes, err := chromedp.Run(tab, chromedp.Nodes(chromedp.CSS("iframe.parley-frame")))
	require.NoError(t, err)
	require.Len(t, nodes, 1)
	return chromedp.FromNode(nodes[0])
}

// waitText waits (bounded by the tab's timeout) until the element's text
// contains want, and returns it.
func waitText(t *testing.T, tab context.Context, sel string, want string, opts ...chromedp.QueryOption) string {
	t.Helper()
	var got string
	for range 400 {
		ctx, cancel := context.WithTimeout(tab, 2*time.Second)
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), opts...))
		cancel()
		if err == nil && strings.Contains(text, want) {
			return text
		}
		got = text
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q; last: %q", sel, want, got)
	return ""
}

// TestBrowserWidgetJourney is the messenger's main journey: a visitor on
// another site opens the launcher and writes; the agent (through the domain
// layer: the desk UI is built separately) sees the conversation and
// replies; the visitor sees it live, with an unread badge while the panel
// is closed; the agent closes it; writing again reopens it; a reload keeps
// the visitor.
func TestBrowserWidgetJourney(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	host := hostSite(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{
			DeskName: "Acme Support", BrandColor: "#0f766e", AllowedOrigins: host.URL, DemoEnabled: true})
	}))
	agent := e.user("Alex Agent", "alex@example.com", models.RoleAgent, true)
	tab := browsertest.Tab(t, 90*time.Second)
	defer keepScreenshot(t, tab)

	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		// The host page works as before.
		browsertest.Click("#host-btn"),
	))
	out, err := chromedp.Run(tab, browsertest.Text("#host-out"))
	require.NoError(t, err)
	require.Equal(t, "added", out)
	countVisitors := func() int64 {
		var n int64
		require.NoError(t, e.db.Raw("SELECT count(*) FROM visitors").Scan(&n).Error)
		return n
	}
	assert.Zero(t, countVisitors(), "no visitor until the chat is opened")
	label, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.CSS(".parley-launcher"), "aria-label"))
	require.NoError(t, err)
	assert.Equal(t, "Chat with Acme Support", label.Value)

	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in := frameNode(t, tab)
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.ID("w-start-body"), in)))
	greeting, err := chromedp.Run(tab, browsertest.Text("#w-greeting", inWidget))
	require.NoError(t, err)
	assert.Equal(t, "Hi there! How can we help?", greeting)

	// Enter sends; Shift+Enter would add a line.
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-start-body", "My parcel never arrived", inWidget),
		pressEnter,
		chromedp.WaitVisible(chromedp.CSS("#w-thread .w-msg-mine"), in),
	))
	waitText(t, tab, "#w-thread", "My parcel never arrived", in)

	// The agent's side.
	rows, err := models.ListInbox(ctx, e.db, models.InboxQuery{Viewer: agent, Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "My parcel never arrived", rows[0].LastMessagePreview)
	conv, err := models.FindConversationForUser(ctx, e.db, agent, rows[0].PublicID)
	require.NoError(t, err)
	assert.Equal(t, host.URL+"/", conv.PageURL, "the host page, passed by the loader")
	assert.Equal(t, "widget", conv.Channel)
	assert.Contains(t, conv.Browser, "Chrome")
	assert.NotEmpty(t, conv.Timezone)
	assert.NotEmpty(t, conv.Language)

	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageText, "Sorry! Track the new one at https://track.example.com/123.")
	})
	require.NoError(t, err)
	e.app.rt.Ring()
	waitText(t, tab, "#w-thread .w-msg-team", "Track the new one", in)
	href, err := chromedp.Run(tab, browsertest.Attr("#w-thread .w-msg-team a", "href", inWidget))
	require.NoError(t, err)
	assert.Equal(t, "https://track.example.com/123", href)
	author, err := chromedp.Run(tab, browsertest.Text("#w-thread .w-msg-team .w-msg-author", inWidget))
	require.NoError(t, err)
	assert.Equal(t, "Alex Agent", author)
	// live.js showed the time in the visitor's zone (it sets a full title).
	title, err := chromedp.Run(tab, browsertest.Attr("#w-thread .w-msg-team time", "title", inWidget))
	require.NoError(t, err)
	assert.NotEmpty(t, title, "localised time")

	// Escape (inside the frame) closes the panel; a reply while closed
	// shows as a badge on the launcher.
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-body", kb.Escape, inWidget),
		chromedp.WaitReady(chromedp.CSS(".parley-root:not(.parley-open)")),
	))
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageText, "It ships tomorrow.")
	})
	require.NoError(t, err)
	e.app.rt.Ring()
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(".parley-badge"))))
	badge, err := chromedp.Run(tab, browsertest.Text(".parley-badge"))
	require.NoError(t, err)
	assert.Equal(t, "1", badge)
	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
		chromedp.WaitNotVisible(chromedp.CSS(".parley-badge")),
	))
	waitText(t, tab, "#w-thread", "It ships tomorrow.", in)

	// The agent closes the conversation: the visitor sees the status line.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, agent, conv, models.StatusClosed) }))
	e.app.rt.Ring()
	waitText(t, tab, "#w-thread .w-sysline", "Alex Agent closed this conversation.", in)
	waitText(t, tab, "#w-convstate", "Write a message to reopen it.", in)

	// Writing again reopens it, with a status line.
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-body", "Actually,", inWidget),
		shiftEnter,
		browsertest.Type("#w-body", "one more question", inWidget),
		pressEnter,
	))
	waitText(t, tab, "#w-thread", "one more question", in)
	waitText(t, tab, "#w-thread", "You reopened this conversation.", in)
	conv, err = models.FindConversationForUser(ctx, e.db, agent, conv.PublicID)
	require.NoError(t, err)
	assert.Equal(t, models.StatusOpen, conv.Status)
	msgs, err := models.ListMessages(ctx, e.db, conv, false)
	require.NoError(t, err)
	var events []string
	for _, m := range msgs {
		if m.Kind == models.MessageSystem {
			events = append(events, m.Event)
		}
	}
	assert.Equal(t, []string{models.SysClosed, models.SysReopenedByCustomer}, events)
	assert.Equal(t, "Actually,\none more question", msgs[len(msgs)-1].Body, "Shift+Enter made a new line, Enter sent")

	// A reload keeps the visitor (token in the host page's storage): the
	// conversation is listed on the home view.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in = frameNode(t, tab)
	waitText(t, tab, "#w-convs", "Actually, one more question", in) // the preview joins lines
	assert.Equal(t, int64(1), countVisitors(), "one visitor across reloads")

	// Each view had its own stream; the ones left behind were closed.
	for i := 0; i < 200 && e.app.rt.Subscribers() != 1; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	assert.Equal(t, 1, e.app.rt.Subscribers(), "only the open view's stream remains")
}

// The desk's online switch and settings reach an open widget at once.
func TestBrowserWidgetFollowsOnlineSwitch(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	host := hostSite(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{
			DeskName: "Acme Support", BrandColor: "#2563eb", AllowedOrigins: host.URL, DemoEnabled: true})
	}))
	admin := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	tab := browsertest.Tab(t, 90*time.Second)
	defer keepScreenshot(t, tab)

	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in := frameNode(t, tab)
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.ID("w-start-body"), in)))
	waitText(t, tab, "#w-status", "We usually reply within a few minutes.", in)

	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, admin.ID, false) }))
	e.app.rt.Ring()
	waitText(t, tab, "#w-status .w-status-label", "Away", in)
	waitText(t, tab, "#w-status", "We are away right now.", in)

	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{
			DeskName: "Acme Care", BrandColor: "#be123c", Greeting: "Welcome to Acme!", OfflineMessage: "Back at 9:00.",
			AllowedOrigins: host.URL, DemoEnabled: true})
	}))
	e.app.rt.Ring()
	waitText(t, tab, "#w-greeting", "Welcome to Acme!", in)
	waitText(t, tab, "#w-title", "Acme Care", in)
	waitText(t, tab, "#w-status", "Back at 9:00.", in)
	// The frame restyles (its theme stylesheet was swapped)...
	require.NoError(t, chromedp.Do(tab, browsertest.WaitFor(
		`getComputedStyle(document.querySelector('.w-header')).backgroundColor === 'rgb(190, 18, 60)'`, inWidget)))
	// ...and the launcher on the host page takes the new colour too.
	require.NoError(t, chromedp.Do(tab, browsertest.WaitFor(
		`getComputedStyle(document.querySelector('.parley-launcher')).backgroundColor === 'rgb(190, 18, 60)'`)))

	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, admin.ID, true) }))
	e.app.rt.Ring()
	waitText(t, tab, "#w-status .w-status-label", "Online", in)
}

// A widget script that fails to load leaves the host page working.
func TestBrowserWidgetFailedLoadIsHarmless(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	host := hostSite(t, e.srv.URL)
	tab := browsertest.Tab(t, 60*time.Second)
	defer keepScreenshot(t, tab)

	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/broken"),
		chromedp.WaitVisible(chromedp.ID("host-btn")),
		browsertest.Click("#host-btn"),
	))
	out, err := chromedp.Run(tab, browsertest.Text("#host-out"))
	require.NoError(t, err)
	assert.Equal(t, "added", out)
	n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('.parley-root').length + (window.Parley ? 1 : 0)`))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing of the widget on the page")
}

// On a site the admin did not allow, the loader shows nothing (the allowed
// sites come with it) and creates no frame, which the browser would refuse
// anyway (frame-ancestors: TestWidgetFrameAncestorsAndDemo); the page keeps working.
func TestBrowserWidgetRefusedOnOtherSites(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	host := hostSite(t, e.srv.URL) // not in the allowed sites
	tab := browsertest.Tab(t, 60*time.Second)
	defer keepScreenshot(t, tab)

	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		browsertest.WaitFor(`!!(window.Parley && window.Parley.open && document.querySelector('.parley-root'))`),
	))
	display, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('.parley-root').style.display`))
	require.NoError(t, err)
	assert.Equal(t, "none", display, "no launcher for a widget that cannot load")
	n, err := chromedp.Run(tab, chromedp.Evaluate[int](`Parley.open(), document.querySelectorAll('iframe').length`))
	require.NoError(t, err)
	assert.Zero(t, n, "no frame, even asked for")
	require.NoError(t, chromedp.Do(tab, browsertest.Click("#host-btn")))
	out, err := chromedp.Run(tab, browsertest.Text("#host-out"))
	require.NoError(t, err)
	assert.Equal(t, "added", out)
}

// A token the server does not know (say, the visitor was deleted) is
// replaced by a new one, which the loader stores.
func TestBrowserWidgetRecoversFromUnknownToken(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	host := hostSite(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(context.Background(), tx, models.SettingsInput{
			DeskName: "Acme", BrandColor: "#2563eb", AllowedOrigins: host.URL, DemoEnabled: true})
	}))
	tab := browsertest.Tab(t, 60*time.Second)
	defer keepScreenshot(t, tab)
	key := "parley.visitor:" + e.srv.URL
	stale := "stale-token-stale-token-stale-token-stale-1"

	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("host-btn")),
	))
	_, err := chromedp.Run(tab, chromedp.Evaluate[bool](fmt.Sprintf(`localStorage.setItem(%q, %q), true`, key, stale)))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		// The frame is created on this first open: wait until it is ready.
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.ID("w-start-body"), frameNode(t, tab))))
	var token string
	for range 200 {
		token, err = chromedp.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(`localStorage.getItem(%q)`, key)))
		require.NoError(t, err)
		if token != stale {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NotEqual(t, stale, token)
	_, err = models.FindVisitor(context.Background(), e.db, token)
	require.NoError(t, err, "the loader keeps the new, real token")
}

// Too many messages: the visitor is told to wait, and keeps what they typed.
func TestBrowserWidgetRateLimitKeepsText(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t, envOpts{widgetLimits: &WidgetLimits{VisitorPosts: 2}})
	tab := browsertest.Tab(t, 60*time.Second)
	defer keepScreenshot(t, tab)

	// The demo page: the widget on Parley's own origin.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/demo"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		// The frame is created on this first open: wait until it is ready.
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in := frameNode(t, tab)
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-start-body", "first", inWidget),
		pressEnter,
		chromedp.WaitVisible(chromedp.ID("w-body"), in),
		browsertest.Type("#w-body", "second", inWidget),
		pressEnter,
	))
	waitText(t, tab, "#w-thread", "second", in)
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-body", "third, too fast", inWidget),
		pressEnter,
		chromedp.WaitVisible(chromedp.CSS("#w-toasts .w-toast"), in),
	))
	waitText(t, tab, "#w-toasts", "You are sending messages too quickly.", in)
	kept, err := chromedp.Run(tab, browsertest.Value("#w-body", inWidget))
	require.NoError(t, err)
	assert.Equal(t, "third, too fast", kept)
}

// A signed-in user of the host site is the same customer on two devices
// (two browser profiles): one passes the identity as window.ParleySettings,
// the other as data- attributes on the script tag.
func TestBrowserWidgetSignedIdentityAcrossDevices(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	settings, err := models.GetSettings(ctx, e.db)
	require.NoError(t, err)
	user := models.Identity{ExternalID: "shop-user-9", Email: "grace@example.com", Name: "Grace Hopper",
		Signature: models.IdentitySignature(settings.WidgetSecret, "shop-user-9", "grace@example.com")}
	host := hostSite(t, e.srv.URL, user)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{
			DeskName: "Acme", BrandColor: "#2563eb", AllowedOrigins: host.URL, RequireSignedIdentity: true, DemoEnabled: true})
	}))

	laptop := browsertest.Tab(t, 60*time.Second)
	defer keepScreenshot(t, laptop)
	require.NoError(t, chromedp.Do(laptop,
		chromedp.Navigate(host.URL+"/signed"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		// The frame is created on this first open: wait until it is ready.
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in := frameNode(t, laptop)
	// Signed: no pre-chat fields (the site vouches for name and email), and
	// the desk's "signed identities only" rule lets this visitor write.
	require.NoError(t, chromedp.Do(laptop,
		chromedp.WaitVisible(chromedp.ID("w-start-body"), in),
		chromedp.WaitNotPresent(chromedp.ID("w-f-email"), in),
		browsertest.Type("#w-start-body", "Written on my laptop", inWidget),
		pressEnter,
	))
	waitText(t, laptop, "#w-thread", "Written on my laptop", in)

	phone := browsertest.Tab(t, 60*time.Second)
	defer keepScreenshot(t, phone)
	require.NoError(t, chromedp.Do(phone,
		chromedp.Navigate(host.URL+"/signed-data"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		// The frame is created on this first open: wait until it is ready.
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	waitText(t, phone, "#w-convs", "Written on my laptop", frameNode(t, phone))

	var customers []struct {
		Verified bool
		Name     string
	}
	require.NoError(t, e.db.Raw("SELECT DISTINCT c.verified, c.name FROM visitors v JOIN customers c ON c.id = v.customer_id").Scan(&customers).Error)
	require.Len(t, customers, 1, "both browsers are one customer")
	assert.True(t, customers[0].Verified)
	assert.Equal(t, "Grace Hopper", customers[0].Name)

	// An anonymous visitor on the same site is told to sign in.
	anon := browsertest.Tab(t, 60*time.Second)
	defer keepScreenshot(t, anon)
	require.NoError(t, chromedp.Do(anon,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		// The frame is created on this first open: wait until it is ready.
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	waitText(t, anon, "#w-identity-required", "Please sign in on this website", frameNode(t, anon))
}

// A reload of the embedded frame (the live stream asks for one when the
// frame fell too far behind) keeps the visitor and the site's identity: the
// frame had dropped what the loader passed in its URL fragment, so a
// reloaded frame became a new, anonymous visitor with an empty chat.
func TestBrowserWidgetFrameReloadKeepsVisitor(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	settings, err := models.GetSettings(ctx, e.db)
	require.NoError(t, err)
	user := models.Identity{ExternalID: "shop-user-7", Email: "ada@example.com", Name: "Ada Lovelace",
		Signature: models.IdentitySignature(settings.WidgetSecret, "shop-user-7", "ada@example.com")}
	host := hostSite(t, e.srv.URL, user)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{
			DeskName: "Acme", BrandColor: "#2563eb", AllowedOrigins: host.URL, RequireSignedIdentity: true, DemoEnabled: true})
	}))
	tab := browsertest.Tab(t, 60*time.Second)
	defer keepScreenshot(t, tab)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/signed"),
		browsertest.Click(".parley-launcher"),
		browsertest.Type("#w-start-body", "Before the reload", inWidget),
		pressEnter,
		browsertest.WaitFor(`!!document.querySelector('#w-thread .w-msg-mine')`, inWidget),
	))
	visitors := func() (n int64) {
		require.NoError(t, e.db.Raw("SELECT count(*) FROM visitors").Scan(&n).Error)
		return n
	}
	require.Equal(t, int64(1), visitors())

	require.NoError(t, chromedp.Do(tab,
		browsertest.WaitFor(`(location.reload(), true)`, inWidget),
		// The reloaded frame opens on the visitor's home, listing the chat.
		browsertest.WaitFor(`!!document.querySelector('#w-convs') && document.querySelector('#w-convs').textContent.includes('Before the reload')`, inWidget),
	))
	assert.Equal(t, int64(1), visitors(), "the same visitor after the reload")
}
