package app

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"riverqueue.com/riverui"

	"github.com/parleydesk/parley/views"
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
// wants its root as "/admin/jobs/": the root is passed on with it. What the
// UI's API cannot take is refused here with a 400 before it reaches it, and
// its HTML pages get Parley's header (the way back to the desk).
func (a *App) serveJobsUI(c echo.Context) error {
	r := c.Request()
	if r.URL.Path == jobsUIPrefix {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = jobsUIPrefix+"/", ""
		r = r2
	}
	if strings.HasPrefix(r.URL.Path, jobsUIPrefix+"/api/") {
		if msg := jobsAPIProblem(r); msg != "" {
			// riverui's own error shape, so its pages show the message.
			return c.JSON(http.StatusBadRequest, map[string]string{"message": msg})
		}
	}
	w := &jobsPageWriter{ResponseWriter: c.Response().Writer, ctx: r.Context()}
	a.jobsUI.ServeHTTP(w, r)
	return w.flush()
}

// noStore keeps every response of a route out of caches (the jobs UI shows
// job arguments and errors; its 403s and redirects too).
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// jobsPageWriter passes River's UI responses through, marked no-store
// (net/http's file server drops Cache-Control from the 404 that riverui then
// answers with its page), except HTML pages, which it holds to add Parley's
// header: a style sheet before </head> and the bar right after <body ...>.
type jobsPageWriter struct {
	http.ResponseWriter
	ctx    context.Context
	status int
	html   bool
	buf    bytes.Buffer
}

func (w *jobsPageWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	w.Header().Set("Cache-Control", "no-store")
	w.html = strings.HasPrefix(w.Header().Get("Content-Type"), "text/html")
	if !w.html {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *jobsPageWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.html {
		return w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// flush writes a held HTML page with Parley's header added.
func (w *jobsPageWriter) flush() error {
	if !w.html {
		return nil
	}
	var head, bar bytes.Buffer
	if err := views.JobsBarHead().Render(w.ctx, &head); err != nil {
		return fmt.Errorf("render jobs bar: %w", err)
	}
	if err := views.JobsBar().Render(w.ctx, &bar); err != nil {
		return fmt.Errorf("render jobs bar: %w", err)
	}
	page := w.buf.Bytes()
	if i := bytes.Index(page, []byte("</head>")); i >= 0 {
		page = slices.Concat(page[:i], head.Bytes(), page[i:])
	}
	if i := bytes.Index(page, []byte("<body")); i >= 0 {
		if j := bytes.IndexByte(page[i:], '>'); j >= 0 {
			at := i + j + 1
			page = slices.Concat(page[:at], bar.Bytes(), page[at:])
		}
	}
	w.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(w.status)
	_, err := w.ResponseWriter.Write(page)
	return err
}

// jobsAPILimitMax is the largest page River's UI may ask for (riverui's own
// validation allows 1000; River panics on 0 and above 10,000).
const jobsAPILimitMax = 1000

// jobsAPIListMax bounds how many values one filter may carry.
const jobsAPIListMax = 100

var (
	// jobsQueueName is River's rule for queue names (river.validateQueueName).
	jobsQueueName = regexp.MustCompile(`^[a-z0-9]+(?:[_|\-]?[a-z0-9]+)*$`)
	// jobsKindName is what job kinds look like: Parley's are snake_case;
	// River's own (and other programs') may carry dots, colons or slashes.
	jobsKindName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:/\-]*$`)
	// jobsStates are the states River's job list accepts.
	jobsStates = map[string]bool{"available": true, "cancelled": true, "completed": true, "discarded": true,
		"pending": true, "retryable": true, "running": true, "scheduled": true}
)

// jobsAPIProblem checks what River's UI API reads from a request's address
// (riverui hands some of it to River unchecked: limit=0 panics, a malformed
// queue name is a 500) and says what is wrong, or "" when it may pass.
func jobsAPIProblem(r *http.Request) string {
	rest := strings.TrimPrefix(r.URL.Path, jobsUIPrefix+"/api/")
	q := r.URL.Query()
	for name, vs := range q {
		if !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
			return "malformed query parameter"
		}
		if len(vs) > jobsAPIListMax {
			return fmt.Sprintf("%s: at most %d values", name, jobsAPIListMax)
		}
		for _, v := range vs {
			if len(v) > 200 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return fmt.Sprintf("%s: malformed value", name)
			}
		}
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > jobsAPILimitMax {
			return fmt.Sprintf("limit: a whole number from 1 to %d", jobsAPILimitMax)
		}
	}
	for _, id := range q["ids"] {
		if n, err := strconv.ParseInt(id, 10, 64); err != nil || n < 1 {
			return "ids: positive whole numbers"
		}
	}
	for _, p := range q["priorities"] {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 4 {
			return "priorities: whole numbers from 1 to 4"
		}
	}
	for _, name := range q["queues"] {
		if !validQueueName(name) {
			return "queues: not a queue name"
		}
	}
	for _, k := range q["kinds"] {
		if len(k) > 128 || !jobsKindName.MatchString(k) {
			return "kinds: not a job kind"
		}
	}
	if v, ok := q["state"]; ok && !jobsStates[v[0]] {
		return "state: not a job state"
	}
	if v, ok := q["facet"]; ok && v[0] != "job_kind" && v[0] != "queue_name" {
		return "facet: job_kind or queue_name"
	}
	// Path parameters: /api/jobs/{id}, /api/queues/{name}[/pause|/resume].
	seg := strings.Split(rest, "/")
	switch {
	case len(seg) == 2 && seg[0] == "jobs" && !jobsActions[seg[1]]:
		if n, err := strconv.ParseInt(seg[1], 10, 64); err != nil || n < 1 {
			return "job id: a positive whole number"
		}
	case len(seg) >= 2 && seg[0] == "queues":
		if !validQueueName(seg[1]) {
			return "queue: not a queue name"
		}
	}
	return ""
}

// jobsActions are the fixed paths under /api/jobs/ that are not job ids.
var jobsActions = map[string]bool{"cancel": true, "delete": true, "retry": true}

func validQueueName(s string) bool { return len(s) <= 64 && jobsQueueName.MatchString(s) }
