package views

import (
	"context"
	"time"
)

// VisitorPage is the page of the customer's site their widget is open on
// now (app/widget_page.go), for the customer context panel.
type VisitorPage struct {
	URL, Title string
	Since      time.Time
}

type visitorPageKey struct{}

// WithVisitorPage carries the customer's current page (nil: the widget is
// not open) to the conversation page's side panel; a page rendered without
// it says nothing about the current page.
func WithVisitorPage(ctx context.Context, p *VisitorPage) context.Context {
	return context.WithValue(ctx, visitorPageKey{}, visitorPageBox{p})
}

type visitorPageBox struct{ p *VisitorPage }

func visitorPageOf(ctx context.Context) (*VisitorPage, bool) {
	b, ok := ctx.Value(visitorPageKey{}).(visitorPageBox)
	return b.p, ok
}
