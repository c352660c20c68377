package app

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"riverqueue.com/riverui"
)

// jobsUIPrefix is where River's admin UI (riverqueue.com/riverui) lives:
// every background job with its state, attempts, errors and arguments, and
// actions to retry, cancel or delete jobs. Admins only.
const jobsUIPrefix = "/admin/jobs"

// mountJobsUI builds River's UI over the app's River client and starts its
// background services (queue and job counts) for the instance's lifetime.
func (a *App) mountJobsUI() error {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(a.river, nil),
		Logger:    a.log.With("component", "riverui"),
		Prefix:    jobsUIPrefix,
		// Arguments stay one click away: email jobs carry only ids, but a
		// screen shared with others need not show any.
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return fmt.Errorf("river UI: %w", err)
	}
	if err := h.Start(a.bg); err != nil {
		return fmt.Errorf("start river UI: %w", err)
	}
	// The UI is a single-page app that calls its JSON API with fetch and
	// cannot send Parley's CSRF token. Its writes are protected instead by
	// the browser's own signals (Sec-Fetch-Site / Origin must be this
	// site: net/http's CrossOriginProtection) and by requiring a JSON
	// body, which no cross-site form can send without a CORS preflight.
	cop := http.NewCrossOriginProtection()
	a.jobsUI = cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				http.Error(w, "JSON body required", http.StatusUnsupportedMediaType)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	return nil
}

// isJobsAPIPath reports whether a request is a write to River's UI API,
// which mountJobsUI protects against cross-site requests on its own.
func isJobsAPIPath(p string) bool { return strings.HasPrefix(p, jobsUIPrefix+"/api/") }

// serveJobsUI hands a request under /admin/jobs to River's UI (the admin
// middleware has already run). Parley drops trailing slashes while the UI
// wants its root as "/admin/jobs/": the root is passed on with it.
func (a *App) serveJobsUI(c echo.Context) error {
	r := c.Request()
	if r.URL.Path == jobsUIPrefix {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = jobsUIPrefix+"/", ""
		r = r2
	}
	a.jobsUI.ServeHTTP(c.Response(), r)
	return nil
}
