package app

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// fetch GETs path with no visitor header and no cookie, as a download
// link is followed.
func (e *testEnv) fetch(path string) *response {
	e.t.Helper()
	return e.browser().get(path)
}

// The customer saves their transcript from the link under the thread: a
// plain-text attachment (nosniff) headed by the session details, with their
// text as written and never a note nor a desk-only line, in their language
// and zone. The link is theirs alone: another conversation's, an altered or
// a missing token is a 404. Agents download the same file and get a print
// view where the customer's text is escaped; staff who may not see the
// customer get 404.
func TestTranscriptRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sam := e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	w := e.newVisitor()
	w.lang = "fr"
	first := `<script>alert("x")</script> & <b>my order</b>`
	pid := w.start(first)
	require.Equal(t, http.StatusOK, w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"line one\nline two"}}).StatusCode)

	b := e.browser()
	b.login("sam@example.com")
	post := func(kind, body string) {
		res := b.post("/conversations/"+pid+"/messages", url.Values{"kind": {kind}, "body": {body}}, "HX-Request", "true")
		require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	}
	post(models.MessageNote, "INTERNAL NOTE: refund them")
	post(models.MessageText, "Try the guide")
	require.Equal(t, http.StatusOK, b.post("/conversations/"+pid+"/push", url.Values{"url": {"https://example.com/guide"}}, "HX-Request", "true").StatusCode)
	// A desk-only status line.
	require.Equal(t, http.StatusNoContent, b.post("/conversations/"+pid+"/assign", url.Values{"assignee_id": {idStr(sam.ID)}}, "HX-Request", "true").StatusCode)
	require.EqualValues(t, 1, pushCount(t, e, "event = ?", models.SysAssigned))

	thread := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, thread.StatusCode)
	link := thread.doc.Find("#w-transcript-link")
	require.Equal(t, 1, link.Length(), "a link under the thread")
	href := link.AttrOr("href", "")
	assert.True(t, strings.HasPrefix(href, "/widget/conversations/"+pid+"/transcript.txt?"), href)
	_, hasDownload := link.Attr("download")
	assert.True(t, hasDownload)
	assert.Equal(t, "Enregistrer cette conversation (.txt)", strings.TrimSpace(link.Text()))

	// Followed as a plain download (no header, no cookie), with the zone
	// widget-frame.js adds.
	txt := e.fetch(href + "&tz=America/Sao_Paulo")
	require.Equal(t, http.StatusOK, txt.StatusCode, txt.body)
	assert.Equal(t, "text/plain; charset=utf-8", txt.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", txt.Header.Get("X-Content-Type-Options"))
	assert.Regexp(t, `^attachment; filename="transcript-\d+\.txt"$`, txt.Header.Get("Content-Disposition"))
	lines := strings.Split(txt.body, "\r\n")
	assert.Regexp(t, `^Support : transcription de la conversation #\d+$`, lines[0])
	for _, want := range []string{"Conversation : #", "Canal : ", "Première demande : " + first, "Heures exprimées en America/Sao_Paulo.",
		"Vous : " + first, "Vous : line one\r\n    line two", "Sam : Try the guide", "Sam : A envoyé un lien : https://example.com/guide"} {
		assert.Contains(t, txt.body, want)
	}
	assert.Less(t, strings.Index(txt.body, "Première demande"), strings.Index(txt.body, "Vous : line one"), "the session details come first")
	assert.NotContains(t, txt.body, "INTERNAL NOTE")
	entries := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "[") {
			entries++
		}
	}
	assert.Equal(t, 4, entries, "two customer messages, the reply, the push: no note, no assignment line")

	// Not theirs, altered, missing: 404 alike.
	other := e.newVisitor()
	otherPid := other.start("someone else's question")
	otherLink := other.get("/widget/conversations/"+otherPid).doc.Find("#w-transcript-link").AttrOr("href", "")
	require.NotEmpty(t, otherLink)
	u, err := url.Parse(otherLink)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, e.fetch("/widget/conversations/"+pid+"/transcript.txt?"+u.RawQuery).StatusCode, "another visitor's token on this conversation")
	q, err := url.Parse(href)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, e.fetch("/widget/conversations/"+otherPid+"/transcript.txt?"+q.RawQuery).StatusCode, "this token on another conversation")
	assert.Equal(t, http.StatusNotFound, e.fetch("/widget/conversations/"+pid+"/transcript.txt").StatusCode)
	tampered := q.Query()
	tampered.Set("t", tampered.Get("t")+"x")
	assert.Equal(t, http.StatusNotFound, e.fetch("/widget/conversations/"+pid+"/transcript.txt?"+tampered.Encode()).StatusCode)
	assert.NotContains(t, e.fetch("/widget/conversations/"+otherPid+"/transcript.txt?"+u.RawQuery).body, first, "its own is fine, and holds nothing of this one")

	// The agents' .txt: the same entries, in their language and zone.
	deskTxt := b.get("/conversations/" + pid + "/transcript.txt?tz=Europe/Paris")
	require.Equal(t, http.StatusOK, deskTxt.StatusCode)
	assert.Equal(t, "nosniff", deskTxt.Header.Get("X-Content-Type-Options"))
	assert.Contains(t, deskTxt.Header.Get("Content-Disposition"), "attachment;")
	assert.Contains(t, deskTxt.body, "First request: "+first)
	assert.Contains(t, deskTxt.body, "Times are in Europe/Paris.")
	assert.Contains(t, deskTxt.body, "Sam: Try the guide")
	assert.NotContains(t, deskTxt.body, "INTERNAL NOTE")

	// The print view: the same block, every piece of customer text escaped.
	print := b.get("/conversations/" + pid + "/transcript")
	require.Equal(t, http.StatusOK, print.StatusCode)
	assert.NotContains(t, print.body, "<script>alert")
	assert.NotContains(t, print.body, "<b>my order")
	assert.NotContains(t, print.body, "INTERNAL NOTE")
	assert.Zero(t, print.doc.Find("#t-entries script, #t-entries b, #t-facts script").Length())
	assert.Equal(t, first, print.doc.Find("#t-entries .t-text").First().Text())
	var facts []string
	print.doc.Find("#t-facts dt").Each(func(_ int, s *goquery.Selection) { facts = append(facts, s.Text()) })
	assert.Equal(t, []string{"Conversation", "Channel", "Started", "Page", "First request", "Browser", "Language", "Time zone"}, facts)
	assert.Equal(t, 1, print.doc.Find("[data-print]").Length())
	assert.Equal(t, 1, b.get("/conversations/"+pid).doc.Find(`#conv-transcript a[href="/conversations/`+pid+`/transcript.txt"]`).Length())

	// Staff who may not see customers, and visitors' headers, get nothing.
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, pat.get("/conversations/"+pid+"/transcript.txt").StatusCode)
	assert.Equal(t, http.StatusNotFound, pat.get("/conversations/"+pid+"/transcript").StatusCode)
	anon := e.fetch("/conversations/" + pid + "/transcript.txt")
	assert.NotEqual(t, http.StatusOK, anon.StatusCode)
	assert.False(t, bytes.Contains([]byte(anon.body), []byte("my order")))
}
