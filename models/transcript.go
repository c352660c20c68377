package models

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // transcripts are written in the reader's zone, whatever the host has

	"gorm.io/gorm"
)

// TranscriptLimit caps the entries of one transcript (a conversation far
// longer is cut at its newest TranscriptLimit, and says so).
const TranscriptLimit = 20000

// TranscriptLinkTTL is how long the widget's "save the chat" link works: it
// is signed when the thread is shown.
const TranscriptLinkTTL = 24 * time.Hour

// Transcript is a customer conversation as it is saved or printed: the
// session details that head it, then what the customer could see.
type Transcript struct {
	Conversation *Conversation
	// FirstRequest is the customer's first message (clipped like the desk's
	// session details).
	FirstRequest string
	// Messages are the transcript's entries, oldest first (inTranscript).
	Messages []Message
	// Truncated reports that older entries were left out (TranscriptLimit).
	Truncated bool
}

// inTranscript is the one rule of what any transcript or export of a
// conversation holds, for every reader (the customer's .txt, the agents'
// .txt and print view): what its customer may see (customerSeesMessageSQL,
// the SQL form of Message.VisibleToCustomer), so never an internal note nor
// a desk-only status line. Whatever else must stay out of transcripts
// (private messages between agents) is added here and in InTranscript.
func inTranscript(q *gorm.DB, messages string) *gorm.DB {
	return q.Where(customerSeesMessageSQL(messages), map[string]any{"customer_events": customerEvents})
}

// InTranscript is inTranscript for one message (its Go form).
func (m *Message) InTranscript() bool { return m.VisibleToCustomer() }

// LoadTranscript reads conv's transcript. conv comes from a lookup scoped by
// its reader (FindConversationForVisitor, FindConversationForUser, or
// OpenTranscriptLink); only customer conversations have one (ErrNotFound
// otherwise).
func LoadTranscript(ctx context.Context, db *gorm.DB, conv *Conversation) (*Transcript, error) {
	if conv == nil || conv.Kind != KindCustomer {
		return nil, ErrNotFound
	}
	q := db.WithContext(ctx).Joins("AuthorUser").Joins("AuthorCustomer").Where("messages.conversation_id = ?", conv.ID)
	var ms []Message
	if err := inTranscript(q, "messages").Order("messages.id DESC").Limit(TranscriptLimit + 1).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("load transcript of conversation %d: %w", conv.ID, err)
	}
	tr := &Transcript{Conversation: conv, Truncated: len(ms) > TranscriptLimit}
	if tr.Truncated {
		ms = ms[:TranscriptLimit]
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	tr.Messages = ms
	first, err := firstRequest(ctx, db, conv)
	if err != nil {
		return nil, err
	}
	tr.FirstRequest = first
	return tr, nil
}

// TranscriptLocation is the zone a transcript's times are written in: the
// one the reader's browser named (an IANA name), else fallback (the zone
// the customer's browser reported when the conversation started, for the
// customer), else UTC.
func TranscriptLocation(tz, fallback string) *time.Location {
	for _, name := range []string{tz, fallback} {
		name = strings.TrimSpace(name)
		if name == "" || len(name) > 64 || !tzRe.MatchString(name) {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return time.UTC
}

// TranscriptLinkToken signs the link with which v downloads conv's
// transcript until expires: "<visitor id>.<unix expiry>.<signature>" over
// the conversation's public id too, under the server-only link secret (a
// link is a plain download, which cannot carry the visitor's header, and
// the visitor's own token must never sit in a URL).
func TranscriptLinkToken(ctx context.Context, db *gorm.DB, v *Visitor, conv *Conversation, expires time.Time) (string, error) {
	if !v.Sees(conv) {
		return "", ErrNotFound
	}
	secret, err := linkSecret(ctx, db)
	if err != nil {
		return "", err
	}
	payload := strconv.FormatInt(v.ID, 10) + "." + strconv.FormatInt(expires.Unix(), 10)
	return payload + "." + signTranscriptLink(secret, conv.PublicID, payload), nil
}

func signTranscriptLink(secret []byte, pid, payload string) string {
	return signLink(secret, "transcript:"+pid+":"+payload)
}

// OpenTranscriptLink checks a transcript link for the conversation publicID
// and returns that conversation, as its visitor may see it now. A forged,
// altered or expired token, another conversation's, or a visitor that is
// gone or no longer sees it, is ErrNotFound.
func OpenTranscriptLink(ctx context.Context, db *gorm.DB, publicID, token string, now time.Time) (*Conversation, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > 200 || !validPublicID(publicID) {
		return nil, ErrNotFound
	}
	secret, err := linkSecret(ctx, db)
	if err != nil {
		return nil, err
	}
	payload := parts[0] + "." + parts[1]
	if !hmac.Equal([]byte(parts[2]), []byte(signTranscriptLink(secret, publicID, payload))) {
		return nil, ErrNotFound
	}
	vid, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || now.Unix() > exp {
		return nil, ErrNotFound
	}
	var v Visitor
	err = db.WithContext(ctx).Take(&v, vid).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("transcript link visitor: %w", err)
	}
	return FindConversationForVisitor(ctx, db, &v, publicID)
}
