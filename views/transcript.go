package views

import (
	"context"
	"strings"
	"time"

	"github.com/parleydesk/parley/models"
)

// TranscriptOpts say who reads a transcript (their language is the
// context's): the zone its times are written in, and whether the reader is
// the customer (who is "You", and reads the status lines the widget shows)
// or staff.
type TranscriptOpts struct {
	Location *time.Location
	Customer bool
	Settings *models.DeskSettings
}

// TranscriptFact is one line of the session details atop a transcript.
type TranscriptFact struct{ Label, Value string }

// TranscriptEntry is one entry of a transcript, as its reader reads it.
type TranscriptEntry struct {
	ID     int64
	At     time.Time
	Author string // empty for a status line
	Text   string
	Link   string // the link sent with a reply, when it is not the text itself
	Pushed bool   // a pushed URL (Text is the URL)
}

// transcriptTime is how transcripts write a time, in the reader's zone.
func transcriptTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04")
}

func (o TranscriptOpts) loc() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

// TranscriptTitle heads a transcript: the desk and the conversation number.
func TranscriptTitle(ctx context.Context, tr *models.Transcript, o TranscriptOpts) string {
	return T(ctx, "pushurl.transcript_title", map[string]any{"Desk": DeskName(ctx, o.Settings), "Number": tr.Conversation.Number()})
}

// TranscriptFacts are the session details that head every transcript (the
// same as the desk's SessionDetails block): number, channel, start, page,
// first request, browser and OS, language and time zone.
func TranscriptFacts(ctx context.Context, tr *models.Transcript, o TranscriptOpts) []TranscriptFact {
	c := tr.Conversation
	or := func(s string) string {
		if s == "" {
			return T(ctx, "session.unknown")
		}
		return s
	}
	return []TranscriptFact{
		{T(ctx, "pushurl.transcript_number"), c.Number()},
		{T(ctx, "desk.channel"), or(channelName(ctx, c.Channel))},
		{T(ctx, "desk.started"), transcriptTime(c.CreatedAt, o.loc())},
		{T(ctx, "desk.page_url"), or(c.PageURL)},
		{T(ctx, "session.first_request"), or(tr.FirstRequest)},
		{T(ctx, "desk.browser"), or(sessionBrowser(ctx, c))},
		{T(ctx, "desk.language"), or(c.Language)},
		{T(ctx, "desk.timezone"), or(c.Timezone)},
	}
}

// TranscriptEntries are the transcript's messages and status lines as the
// reader reads them.
func TranscriptEntries(ctx context.Context, tr *models.Transcript, o TranscriptOpts) []TranscriptEntry {
	out := make([]TranscriptEntry, 0, len(tr.Messages))
	for i := range tr.Messages {
		m := &tr.Messages[i]
		e := TranscriptEntry{ID: m.ID, At: m.CreatedAt, Text: m.Body, Pushed: m.LinkPushed}
		switch {
		case m.Kind == models.MessageSystem && o.Customer:
			e.Text = systemLine(ctx, m, o.Settings)
		case m.Kind == models.MessageSystem:
			e.Text = systemText(ctx, m)
		case o.Customer:
			e.Author = customerAuthorName(ctx, m, o.Settings)
		default:
			e.Author = authorName(ctx, m)
			if m.AuthorHidden {
				// The customer read the desk's name (CustomerAuthorName).
				e.Author += " (" + T(ctx, "participants.hidden") + ")"
			}
		}
		if m.LinkURL != "" && m.LinkURL != m.Body {
			e.Link = m.LinkURL
		}
		if m.DeletedAt != nil { // the row stays, its text is gone: say so
			e.Text, e.Link, e.Pushed = T(ctx, "msgmenu.deleted"), "", false
		} else if m.EditedAt != nil && !m.LinkPushed {
			e.Text += " (" + T(ctx, "msgmenu.edited") + ")"
		}
		out = append(out, e)
	}
	return out
}

// TranscriptText is a transcript as a plain-text file: the title, the
// session details, then one entry per message ("[time] Author: text", later
// lines indented), in the reader's language and zone. Customer text goes in
// as it is: the file is served as text/plain, never as HTML.
func TranscriptText(ctx context.Context, tr *models.Transcript, o TranscriptOpts) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(s); b.WriteString("\r\n") }
	title := TranscriptTitle(ctx, tr, o)
	line(title)
	line(strings.Repeat("=", len([]rune(title))))
	for _, f := range TranscriptFacts(ctx, tr, o) {
		line(T(ctx, "pushurl.transcript_fact", map[string]any{"Label": f.Label, "Value": oneLine(f.Value)}))
	}
	line(T(ctx, "pushurl.transcript_times", map[string]any{"Zone": o.loc().String()}))
	if tr.Truncated {
		line(T(ctx, "pushurl.transcript_truncated", map[string]any{"Max": models.TranscriptLimit}))
	}
	line("")
	for _, e := range TranscriptEntries(ctx, tr, o) {
		head := "[" + transcriptTime(e.At, o.loc()) + "] "
		if e.Author == "" {
			line(head + "— " + oneLine(e.Text))
			continue
		}
		text := strings.ReplaceAll(e.Text, "\r\n", "\n")
		if e.Pushed {
			text = T(ctx, "pushurl.transcript_pushed", map[string]any{"URL": e.Text})
		}
		for i, l := range strings.Split(text, "\n") {
			if i == 0 {
				line(head + T(ctx, "pushurl.transcript_said", map[string]any{"Author": e.Author, "Text": l}))
			} else {
				line("    " + l)
			}
		}
		if e.Link != "" {
			line("    " + T(ctx, "pushurl.transcript_link", map[string]any{"URL": e.Link}))
		}
	}
	return b.String()
}

// TranscriptFileName is the name a transcript is saved under.
func TranscriptFileName(tr *models.Transcript) string {
	return "transcript-" + strings.TrimPrefix(tr.Conversation.Number(), "#") + ".txt"
}

type pushFormKey struct{}

// WithPushForm carries the push-URL form with its values and errors to the
// conversation page rendered for a rejected push without htmx (the page's
// own signature stays the composer's).
func WithPushForm(ctx context.Context, f Form) context.Context {
	return context.WithValue(ctx, pushFormKey{}, f)
}

// PushForm is the push-URL form WithPushForm carried, or an empty one.
func PushForm(ctx context.Context) Form {
	f, _ := ctx.Value(pushFormKey{}).(Form)
	return f
}
