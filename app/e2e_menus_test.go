package app

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// On a desktop (the test browser's kind), the assignee menu comes with the page holding its current
// choice only; used (focused), it loads the agents, and picking one assigns
// the conversation: the control the stream swaps in names the new
// assignee. Opened again, the pointer on its way to the menu loads the
// agents. A team picked in the transfer menu stays picked as they load.
func TestBrowserAgentMenusLoadWhenUsed(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Ana Agent", "ana@example.com", models.RoleAgent, true)
	bo := e.user("Bo Buddy", "bo@example.com", models.RoleAgent, true)
	e.user("Cy Clerk", "cy@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla", "where is my parcel?")
	team, err := models.CreateTeam(t.Context(), e.db, "Billing")
	require.NoError(t, err)

	tab := deskTab(t, e, "ana@example.com")
	options := `document.querySelectorAll('#f-assignee option').length`
	page := e.srv.URL + "/conversations/" + conv.PublicID
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("f-assignee")),
	))
	require.Equal(t, "1", jsText(t, tab, "String("+options+")"), "Unassigned only, until used")

	require.NoError(t, chromedp.Do(tab,
		browsertest.SetValue("#f-assignee", fmt.Sprint(bo.ID)), // focuses it, waits for Bo, picks him
		until(fmt.Sprintf(`(document.querySelector('#f-assignee option[selected]') || {}).value === '%d'`, bo.ID)),
	))
	waitText(t, tab, "#messages", "Ana Agent assigned the conversation to Bo Buddy")
	require.Equal(t, "Bo Buddy", jsText(t, tab, `document.querySelector('#f-assignee option[selected]').textContent`), "the swapped control names him")

	// Opened again, the menu holds Unassigned and Bo; the pointer on its
	// way to it loads the agents.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("f-assignee")),
	))
	require.Equal(t, "2", jsText(t, tab, "String("+options+")"))
	var box []float64
	require.NoError(t, chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var err error
		box, err = chromedp.Evaluate[[]float64](`(function(){ var el = document.getElementById('f-assignee'); el.scrollIntoView({block: 'center'}); var r = el.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)(ctx, tg)
		return err
	})))
	require.NoError(t, chromedp.Do(tab,
		chromedp.MouseEvent(chromedp.MouseMoved, box[0], box[1]),
		until(options+` === 4`),
		until(fmt.Sprintf(`document.getElementById('f-assignee').value === '%d'`, bo.ID)),
	))

	// A team picked in the transfer menu stays picked when its agents load,
	// and when they load again (as into a control the stream swapped in).
	transfer := `document.querySelectorAll('#f-transfer-to option').length`
	picked := fmt.Sprintf(`document.getElementById('f-transfer-to').value === 'team:%d'`, team.ID)
	require.NoError(t, chromedp.Do(tab,
		browsertest.SetValue("#f-transfer-to", fmt.Sprintf("team:%d", team.ID)),
		until(transfer+` === 5`), // the prompt, the team, three agents
		until(picked),
		chromedp.Evaluate[chromedp.Void](`(function () {
			var s = document.getElementById('f-transfer-to');
			s.parleyOptions = false;
			s.innerHTML = s.options[s.selectedIndex].outerHTML;
			s.dispatchEvent(new Event('focusin', {bubbles: true}));
		})()`),
		until(transfer+` === 5`),
		until(picked),
	))
}

// On a touch screen, whose native picker opens at the tap, a menu of agents
// loads its options once it is on screen.
func TestBrowserAgentMenusLoadOnATouchScreen(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Ana Agent", "ana@example.com", models.RoleAgent, true)
	e.user("Bo Buddy", "bo@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla", "where is my parcel?")

	tab := deskTab(t, e, "ana@example.com")
	require.NoError(t, chromedp.Do(tab,
		browsertest.TouchScreen(),
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv.PublicID),
		chromedp.WaitVisible(chromedp.ID("f-assignee")),
		until(`matchMedia('(hover: none)').matches`),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-assignee').scrollIntoView({block: 'center'})`),
		until(`document.querySelectorAll('#f-assignee option').length === 3`), // Unassigned, Ana, Bo: no touch, no focus
	))
	require.NotEqual(t, `"f-assignee"`, jsText(t, tab, `JSON.stringify(document.activeElement && document.activeElement.id)`), "loaded without the focus")
}

// A menu whose options cannot be loaded says so (the desk's network-error
// toast) and keeps its choice; the next use tries again.
func TestBrowserAgentMenuLoadFailureIsSaid(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Ana Agent", "ana@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla", "where is my parcel?")

	tab := deskTab(t, e, "ana@example.com")
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv.PublicID),
		chromedp.WaitVisible(chromedp.ID("f-assignee")),
		// Where nothing answers: the request fails as on a lost network.
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-assignee').setAttribute('data-options', 'http://127.0.0.1:1/menus/assignee')`),
		browsertest.Focus("#f-assignee"),
		until(`Array.from(document.querySelectorAll('#toasts .toast-error')).some(function (t) { return t.textContent === document.getElementById('page-meta').dataset.msgNetworkError; })`),
		until(`document.querySelectorAll('#f-assignee option').length === 1 && document.getElementById('f-assignee').value === ''`),
		until(`document.getElementById('f-assignee').parleyOptions === false`),
	))
}
