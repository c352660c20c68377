package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// deskTab opens a browser tab (its own cookies) signed in as email, for 90
// seconds; on a failure it keeps a screenshot.
func deskTab(t *testing.T, e *testEnv, email string) context.Context {
	t.Helper()
	return deskTabFor(t, e, email, 90*time.Second)
}

// deskTabFor is deskTab for a journey that needs the tab longer.
func deskTabFor(t *testing.T, e *testEnv, email string, life time.Duration) context.Context {
	t.Helper()
	tab := browsertest.Tab(t, life)
	t.Cleanup(func() {
		if t.Failed() {
			dir := filepath.Join(os.TempDir(), "parley-e2e")
			os.MkdirAll(dir, 0o755)
			p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+strings.Split(email, "@")[0]+".png")
			if browsertest.Screenshot(tab, p) == nil {
				t.Logf("screenshot of %s's tab: %s", email, p)
			}
		}
	})
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		browsertest.Type("#f-email", email),
		browsertest.Type("#f-password", "correct horse"),
		browsertest.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(".user-menu")),
	))
	return tab
}

// until waits (bounded) for a JavaScript condition in the tab.
func until(js string) chromedp.Action[chromedp.Void] {
	return browsertest.WaitFor(js)
}

func jsText(t *testing.T, tab context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Evaluate[string](js))
	require.NoError(t, err)
	return s
}

// Agent A starts a chat with agent B; B sees it arrive live, unread, opens
// it and answers with Enter; A sees the answer live; unread marks clear.
func TestBrowserTeammateChat(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Ana Agent", "ana@example.com", models.RoleAgent, false)
	ben := e.user("Ben Agent", "ben@example.com", models.RoleAgent, false)
	e.user("Cy Other", "cy@example.com", models.RoleAgent, false)

	tabB := deskTab(t, e, "ben@example.com")
	require.NoError(t, chromedp.Do(tabB,
		chromedp.Navigate(e.srv.URL+"/mine"),
		chromedp.WaitVisible(chromedp.CSS(".inbox-empty")),
	))

	tabA := deskTab(t, e, "ana@example.com")
	require.NoError(t, chromedp.Do(tabA,
		chromedp.Navigate(e.srv.URL+"/mine"),
		browsertest.Click(`a[href="/mine/new"]`),
		chromedp.WaitVisible(chromedp.CSS(`#teammate-chat`)),
		browsertest.Click(`input[name="members"][value="`+strconv.FormatInt(ben.ID, 10)+`"]`),
		browsertest.Type("#f-body", "Can you take the 3pm call?"),
		browsertest.Click(`#teammate-chat button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-out`)),
	))
	require.Equal(t, "Can you take the 3pm call?", jsText(t, tabA, `document.querySelector('#messages .msg-out .msg-body').textContent`))

	// B: the conversation arrives in My conversations without a reload,
	// bold with its count, and in the navigation and the tab title.
	require.NoError(t, chromedp.Do(tabB,
		until(`document.querySelector('#inbox-rows .inbox-row.is-unread')`),
		until(`!document.getElementById('nav-unread-mine').hidden`),
		until(`document.title.startsWith('(1) ')`),
	))
	require.Equal(t, "Ana Agent", jsText(t, tabB, `document.querySelector('#inbox-rows .inbox-row .row-title').textContent`))
	require.Equal(t, "1", jsText(t, tabB, `document.querySelector('#inbox-rows .inbox-row .row-unread').textContent`))
	require.Equal(t, "1", jsText(t, tabB, `document.getElementById('nav-unread-mine').textContent`))

	// B opens it: read. Shift+Enter adds a line, Enter sends.
	require.NoError(t, chromedp.Do(tabB,
		browsertest.Click(`#inbox-rows .inbox-row`),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-in`)),
		until(`document.getElementById('nav-unread-mine').hidden && !document.title.startsWith('(')`),
		browsertest.Type("#f-body", "Sure,"),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift)),
		browsertest.Type("#f-body", "I will.\r"),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-out`)),
		until(`document.getElementById('f-body').value === ''`),
	))
	require.Equal(t, "Sure,\nI will.", jsText(t, tabB, `document.querySelector('#messages .msg-out .msg-body').textContent`))

	// An empty Enter sends nothing.
	require.NoError(t, chromedp.Do(tabB, browsertest.Type("#f-body", "   \r")))

	// A: the answer arrives live; A's page is open and visible, so it is
	// marked read at once and the badge stays clear.
	require.NoError(t, chromedp.Do(tabA,
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-in`)),
		until(`document.getElementById('nav-unread-mine').hidden`),
	))
	require.Equal(t, "Sure,\nI will.", jsText(t, tabA, `document.querySelector('#messages .msg-in .msg-body').textContent`))
	n, err := chromedp.Run(tabA, chromedp.Evaluate[int](`document.querySelectorAll('#messages .msg').length`))
	require.NoError(t, err)
	require.Equal(t, 2, n, "no duplicate and no empty message")
	ana, err := models.FindUserByEmail(context.Background(), e.db, "ana@example.com")
	require.NoError(t, err)
	s, err := models.CountUnread(context.Background(), e.db, ana)
	require.NoError(t, err)
	require.Zero(t, s.Mine, "read on arrival")
}

// A support agent's inbox, driven by customer activity from the domain
// layer (the widget is another page): a new conversation appears live with
// an alert, is answered and closed, leaves the Open tab, and comes back when
// the customer writes again.
func TestBrowserCustomerConversationLive(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	// Signing in lands support agents on the inbox (a boosted navigation from
	// the sign-in page: the desk's scripts must already be there).
	tab := deskTab(t, e, "sue@example.com")
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(".inbox-empty"))))
	loc, err := chromedp.Run(tab, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(loc, "/inbox"), loc)

	cust, conv := e.customerConversation("Carla Customer", "Where is my order?")
	row := "#row-" + conv.PublicID
	require.NoError(t, chromedp.Do(tab,
		chromedp.WaitVisible(chromedp.CSS(row+".is-unread")),
		chromedp.WaitVisible(chromedp.CSS(`#toasts .desk-alert`)),
		until(`document.title === '(1) Inbox · Parley'`),
	))
	require.Contains(t, jsText(t, tab, `document.querySelector('#toasts .desk-alert').textContent`), "New conversation from Carla Customer")
	require.Equal(t, "1", jsText(t, tab, `document.querySelector('`+row+` .row-unread').textContent`))
	require.Equal(t, "row-"+conv.PublicID, jsText(t, tab, `document.querySelector('#inbox-rows > .inbox-row').id`), "at the top")
	chimes, err := chromedp.Run(tab, chromedp.Evaluate[int](`window.ParleyDesk.chimes`))
	require.NoError(t, err)
	require.Equal(t, 1, chimes, "one chime for one new conversation")

	// Open it, reply with Enter, close it with the check mark.
	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(row),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-in`)),
		until(`document.getElementById('nav-unread-customers').hidden && document.title === 'Carla Customer · Parley'`),
		browsertest.Type("#f-body", "It ships today.\r"),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-out`)),
		browsertest.Click(`#conv-status .btn-close-conv`),
		chromedp.WaitVisible(chromedp.CSS(`#conv-status .btn-reopen-conv`)),
		chromedp.WaitNotPresent(chromedp.CSS(row)), // it left the Open tab beside it
		until(`document.querySelector('#messages .msg-system')`),
	))
	require.Equal(t, "Sue Support closed the conversation", jsText(t, tab, `document.querySelector('#messages .msg-system span').textContent`))
	require.Equal(t, "closed", jsText(t, tab, `document.getElementById('f-status').value`))

	// The customer writes again: reopened, back in the Open tab, with the line.
	e.customerSays(cust, conv, "Thanks! One more thing…")
	require.NoError(t, chromedp.Do(tab,
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.CSS(`#conv-status .btn-close-conv`)),
		until(`document.querySelectorAll('#messages .msg-system').length === 2 && document.querySelectorAll('#messages .msg-in').length === 2`),
	))
	require.Equal(t, "Conversation reopened by the customer's reply",
		jsText(t, tab, `document.querySelectorAll('#messages .msg-system span')[1].textContent`))
	require.Equal(t, "open", jsText(t, tab, `document.getElementById('f-status').value`))
	require.Equal(t, "Thanks! One more thing…", jsText(t, tab, `document.querySelectorAll('#messages .msg-in .msg-body')[1].textContent`))
}

// The online switch is for admins and support agents and asks first: Sue
// cancels once (nothing changes), then confirms in the dialog; Pat, without
// the support flag, has no switch, only the desk's status, which follows
// live; the change is on the admins' page with who made it.
func TestBrowserOnlineSwitchIsLive(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	e.user("Pat Plain", "pat@example.com", models.RoleAgent, false)
	e.user("Ada Admin", "ada@example.com", models.RoleAdmin, false)
	sue := deskTab(t, e, "sue@example.com")
	pat := deskTab(t, e, "pat@example.com")
	require.NoError(t, chromedp.Do(sue, chromedp.Navigate(e.srv.URL+"/inbox"), chromedp.WaitVisible(chromedp.CSS(`#desk-online .switch.is-on`))))
	require.NoError(t, chromedp.Do(pat, chromedp.Navigate(e.srv.URL+"/account"), chromedp.WaitVisible(chromedp.CSS(`#desk-online .switch.is-on`))))
	require.Equal(t, "0", jsText(t, pat, `String(document.querySelectorAll('#desk-online button, form#desk-online').length)`), "no switch for Pat")
	online := func() bool {
		s, err := models.GetSettings(context.Background(), e.db)
		require.NoError(t, err)
		return s.Online
	}

	// Cancel: the dialog closes, nothing is sent.
	require.NoError(t, chromedp.Do(sue,
		browsertest.Click(`#desk-online button`),
		chromedp.WaitVisible(chromedp.CSS(`dialog#confirm-dialog[open]`)),
	))
	require.Contains(t, jsText(t, sue, `document.querySelector('#confirm-dialog p').textContent`), "Set the whole desk offline?")
	require.NoError(t, chromedp.Do(sue,
		browsertest.Click(`#confirm-cancel`),
		chromedp.WaitNotPresent(chromedp.ID("confirm-dialog")),
	))
	require.True(t, online())
	require.Equal(t, "true", jsText(t, sue, `document.querySelector('#desk-online button').getAttribute('aria-checked')`))

	// Confirm: the desk goes offline, in Pat's desk too.
	require.NoError(t, chromedp.Do(sue,
		browsertest.Click(`#desk-online button`),
		chromedp.WaitVisible(chromedp.ID("confirm-ok")),
		browsertest.Click(`#confirm-ok`),
		chromedp.WaitVisible(chromedp.CSS(`#desk-online button[aria-checked="false"]`)),
	))
	require.NoError(t, chromedp.Do(pat, chromedp.WaitVisible(chromedp.CSS(`#desk-online .switch:not(.is-on)`))))
	require.Equal(t, "Desk offline", strings.TrimSpace(jsText(t, pat, `document.querySelector('#desk-online .switch-label').textContent`)))
	require.False(t, online())

	admin := deskTab(t, e, "ada@example.com")
	require.NoError(t, chromedp.Do(admin, chromedp.Navigate(e.srv.URL+"/admin/conversations"), chromedp.WaitVisible(chromedp.ID("desk-status-changes"))))
	require.Contains(t, jsText(t, admin, `document.querySelector('#desk-status-changes li').textContent`), "Sue Support set the desk offline at ")
}

// A large team's new chat offers a box that narrows the teammates as one
// types, in any case and without the accents; a ticked one stays, and the
// chat starts with who is ticked.
func TestBrowserNewTeammateChatFindsATeammate(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Ana Agent", "ana@example.com", models.RoleAgent, false)
	zoe := e.user("Zoé Ferreira", "zoe@example.com", models.RoleAgent, false)
	for i := range 10 {
		e.user(fmt.Sprintf("Mate %02d", i), fmt.Sprintf("mate%d@example.com", i), models.RoleAgent, false)
	}
	visible := `Array.from(document.querySelectorAll('#teammate-picks > label')).filter(function (l) { return !l.hidden; }).length`
	tab := deskTab(t, e, "ana@example.com")
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/mine/new"),
		chromedp.WaitVisible(chromedp.ID("teammate-filter")),
		until(visible+` === 11`),
		browsertest.Type("#teammate-filter", "ZOE"),
		until(visible+` === 1`),
		browsertest.Click(`input[name="members"][value="`+strconv.FormatInt(zoe.ID, 10)+`"]`),
		browsertest.SetValue("#teammate-filter", "mate 0"),
		until(visible+` === 11`), // the ten mates, and Zoé, ticked
		browsertest.Type("#f-body", "Lunch?"),
		browsertest.Click(`#teammate-chat button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-out`)),
	))
	require.Contains(t, jsText(t, tab, `document.querySelector('#conv h1').textContent`), "Zoé Ferreira")
}
