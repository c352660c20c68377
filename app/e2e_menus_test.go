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

// The assignee menu comes with the page holding its current choice only;
// used (focused), it loads the agents, and picking one assigns the
// conversation. The control the stream swaps in names the new assignee,
// and the pointer reaching it loads the agents again. A choice made in the
// transfer menu before its agents arrive stays chosen.
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
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv.PublicID),
		chromedp.WaitVisible(chromedp.ID("f-assignee")),
	))
	require.Equal(t, "1", jsText(t, tab, "String("+options+")"), "Unassigned only, until used")

	require.NoError(t, chromedp.Do(tab,
		browsertest.SetValue("#f-assignee", fmt.Sprint(bo.ID)), // focuses it, waits for Bo, picks him
		until(fmt.Sprintf(`(document.querySelector('#f-assignee option[selected]') || {}).value === '%d'`, bo.ID)),
	))
	waitText(t, tab, "#messages", "Ana Agent assigned the conversation to Bo Buddy")
	require.Equal(t, "2", jsText(t, tab, "String("+options+")"), "the swapped control: Unassigned and Bo")
	require.Equal(t, "Bo Buddy", jsText(t, tab, `document.querySelector('#f-assignee option[selected]').textContent`))

	// The pointer on its way to the menu loads the agents.
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

	// The transfer menu holds the teams; a team picked at once stays picked
	// when the agents arrive.
	transfer := `document.querySelectorAll('#f-transfer-to option').length`
	require.Equal(t, "2", jsText(t, tab, "String("+transfer+")"), "the prompt and the team")
	require.NoError(t, chromedp.Do(tab,
		browsertest.SetValue("#f-transfer-to", fmt.Sprintf("team:%d", team.ID)),
		until(transfer+` === 5`),
		until(fmt.Sprintf(`document.getElementById('f-transfer-to').value === 'team:%d'`, team.ID)),
	))
}
