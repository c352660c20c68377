package views

import (
	"context"

	"github.com/parleydesk/parley/models"
)

// Toast is a short message shown in the corner of the page.
type Toast struct {
	Level   string // "success", "error" or "info"
	Message string
}

// Request is what every page needs to know about the request it renders for.
// The app puts it in the request context; templates read it with Req(ctx).
type Request struct {
	User *models.User // nil when signed out
	// CSRFToken is what pages carry: the session's token masked with a
	// random pad of this response (app/csrf.go), so a compressed page never
	// repeats the same secret bytes across responses (BREACH).
	CSRFToken string
	// CSRFSecret is the session's token itself, which posts must match; it
	// is never rendered.
	CSRFSecret string
	RequestID  string
	Path       string
	// Fragment is set for htmx requests that swap part of a page: layouts then
	// render only their content.
	Fragment bool
	Toasts   []Toast
	// FileURL signs the download link of a file for this request's viewer
	// (staff user or visitor; nil: no links, files are listed by name).
	// inline asks for a thumbnail's or player's URL.
	FileURL func(f *models.File, inline bool) string
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// Req returns the request info carried by ctx (never nil).
func Req(ctx context.Context) *Request {
	if r, ok := ctx.Value(requestKey{}).(*Request); ok {
		return r
	}
	return &Request{}
}

// AssetURL maps a file under static/ to the URL that serves it. The app
// replaces it at start-up with one that adds a content hash, so browsers can
// cache assets for a year and still get a new file after an upgrade.
var AssetURL = func(name string) string { return "/static/" + name }
