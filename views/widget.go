package views

import (
	"context"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/parleydesk/parley/models"
)

// WidgetFrame is what the widget's iframe page needs. The page itself is the
// same for every visitor (the visitor's token arrives in the URL fragment,
// which the server never sees); views are loaded into it afterwards.
type WidgetFrame struct {
	Settings *models.DeskSettings
	ThemeURL string
	// Origins are the sites allowed to embed the widget; the frame posts its
	// messages (the visitor's token, unread counts) only to one of them.
	Origins []string
	// Standalone lays the frame out as a full page (the emailed chat link):
	// a centred column, not the widget stretched to the window.
	Standalone bool
}

// WidgetHome is the visitor's start view: greeting and status (in the frame
// header), past conversations, and the form that starts a new one.
type WidgetHome struct {
	Settings      *models.DeskSettings
	Visitor       *models.Visitor
	Conversations []models.Conversation
	Form          Form
	StreamURL     string
}

// WidgetThread is one conversation as its customer sees it.
type WidgetThread struct {
	Settings *models.DeskSettings
	Visitor  *models.Visitor
	Conv     *models.Conversation
	Messages []models.Message
	// More reports that the thread has messages older than Messages.
	More      bool
	Composer  Form
	StreamURL string
	// TranscriptURL is the signed link that saves the chat as a .txt file
	// (models.TranscriptLinkToken); empty: no link.
	TranscriptURL string
	// Media is the conversation's running media session, if any (rtc.go):
	// a request to answer, or what is being shared.
	Media *models.RTCSession
}

func deskGreeting(ctx context.Context, s *models.DeskSettings) string {
	if s.Greeting != "" {
		return s.Greeting
	}
	return T(ctx, "widget.greeting_default")
}

func deskStatusText(ctx context.Context, s *models.DeskSettings) string {
	if s.Online {
		if s.OnlineMessage != "" {
			return s.OnlineMessage
		}
		return T(ctx, "widget.online_default")
	}
	if s.OfflineMessage != "" {
		return s.OfflineMessage
	}
	return T(ctx, "widget.offline_default")
}

// BrandInk is the text colour readable on a #rrggbb brand colour: white on
// dark colours, near-black on light ones.
func BrandInk(color string) string {
	if len(color) != 7 || color[0] != '#' {
		return "#ffffff"
	}
	ch := func(s string) float64 {
		n, _ := strconv.ParseUint(s, 16, 8)
		v := float64(n) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	// WCAG relative luminance; above ~0.4 dark text has the better contrast.
	if 0.2126*ch(color[1:3])+0.7152*ch(color[3:5])+0.0722*ch(color[5:7]) > 0.4 {
		return "#111827"
	}
	return "#ffffff"
}

// systemLine is a status line in the customer's language.
func systemLine(ctx context.Context, m *models.Message, s *models.DeskSettings) string {
	by := models.CustomerLineActor(m, DeskName(ctx, s))
	switch m.Event {
	case models.SysClosed:
		return T(ctx, "widget.system.closed", map[string]any{"By": by})
	case models.SysReopened:
		return T(ctx, "widget.system.reopened", map[string]any{"By": by})
	case models.SysReopenedByCustomer:
		return T(ctx, "widget.system.reopened_by_you")
	case models.SysAutoClosed:
		return autoClosedLine(ctx, m, true)
	case models.SysJoined, models.SysLeft:
		// Only a visible agent's lines reach the customer (VisibleToCustomer);
		// who invited them is the team's business.
		return participantLine(ctx, m, true)
	}
	if s, ok := sessionCustomerLine(ctx, m); ok {
		return s
	}
	if line, ok := rtcSystemText(ctx, m, true, DeskName(ctx, s)); ok {
		return line
	}
	return itemCustomerLine(ctx, m)
}

// customerAuthorName is who wrote a message, as the customer sees it.
func customerAuthorName(ctx context.Context, m *models.Message, s *models.DeskSettings) string {
	if m.AuthorType == models.AuthorCustomer {
		return T(ctx, "widget.you")
	}
	return models.CustomerAuthorName(m, DeskName(ctx, s))
}

func conversationTitle(ctx context.Context, c *models.Conversation) string {
	if c.LastMessagePreview != "" {
		return c.LastMessagePreview
	}
	return T(ctx, "widget.conversation")
}

func threadURL(pid string) string { return "/widget/conversations/" + url.PathEscape(pid) }

func messagesURL(pid string) string { return threadURL(pid) + "/messages" }

// WidgetTimeText is the widget's one date format, as the server writes it
// (UTC) before live.js shows it in the visitor's zone: "15:04" for a time
// on now's day, "2006-01-02 15:04" otherwise.
func WidgetTimeText(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}
