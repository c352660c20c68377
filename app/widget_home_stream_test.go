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

// The widget's home view lists the visitor's conversations newest first,
// and each reply moves its conversation to the top, live. The list is read
// once per stream; later messages are merged into it, not read again.
func TestWidgetHomeListFollowsEachReply(t *testing.T) {
	t.Parallel()
	st := &statementCounter{}
	e := setup(t, envOpts{statements: st})
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	agent := e.browser()
	agent.login("ana@example.com")
	w := e.newVisitor()
	first := w.start("The first question")
	second := w.start("The second question")
	home := w.stream(t, 0, "")

	reply := func(pid, body string) {
		res := agent.post("/conversations/"+pid+"/messages", url.Values{"body": {body}}, "HX-Request", "true")
		require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	}
	// The newest list the stream carried, by its rows' previews.
	lastList := func(want string) string {
		txt := home.waitFor(want)
		return txt[strings.LastIndex(txt, `id="w-convs"`):]
	}
	reply(first, "Answer to the first")
	list := lastList("Answer to the first")
	assert.Less(t, strings.Index(list, "Answer to the first"), strings.Index(list, "The second question"), "the answered conversation comes first")

	sqls := st.during(func() {
		reply(second, "Answer to the second")
		list = lastList("Answer to the second")
	})
	assert.Less(t, strings.Index(list, "Answer to the second"), strings.Index(list, "Answer to the first"))
	for _, q := range sqls {
		assert.NotContains(t, q, "ORDER BY c.last_message_at DESC, c.id DESC LIMIT", "the list is not read again: %s", q)
	}
}
