package browsertest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Why these helpers: chromedp's Click and SendKeys find a node, then act on
// it by its DevTools node id in a later round trip. When htmx swaps that part
// of the page in between (a response, or a live update from the stream), the
// id names a node that is gone: "Could not find node with given id". These
// helpers find the element and act on it inside the page, in one JavaScript
// turn, and only once it is ready: present, visible, enabled, outside any
// htmx request or swap in progress, and the same element for a short while
// (a swap that was about to replace it has happened). "Outside any request"
// is counted over the page's XMLHttpRequests (htmx's transport, see
// pendingXHR), not only over elements marked htmx-request: a boosted form
// whose element a live update already replaced still has its navigation in
// flight, and acting before it lands acts on a page about to be replaced.

// ActTimeout bounds how long one action waits for its element.
const ActTimeout = 30 * time.Second

// stableFor is how long an element must stay the same (not swapped) before
// an action uses it.
const stableFor = 60 * time.Millisecond

// Opt says where an action looks for its element.
type Opt func(*scope)

type scope struct {
	frame string // CSS selector of an iframe in the page; "" is the page itself
	// within replaces ActTimeout for WaitFor (0: ActTimeout).
	within time.Duration
}

// Within lets WaitFor wait up to d instead of ActTimeout: for what takes
// longer than one page action by nature (a WebRTC connection through TURN
// on a loaded machine), never to measure speed.
func Within(d time.Duration) Opt {
	return func(s *scope) { s.within = d }
}

// InFrame makes the action look inside the document of the first iframe
// that frameSel matches (same site: the widget's frame on a host page). The
// iframe is looked up afresh each time, so a reloaded page is no problem.
func InFrame(frameSel string) Opt {
	return func(s *scope) { s.frame = frameSel }
}

// readyJS is the page side of every action, polled: it finds the element
// for sel, waits (across polls, remembering the element in state) until it
// is ready and has stayed the same element for state.stableMs, then does
// doName on it in the same turn and returns {v: what it read}. Until then it
// returns false.
const readyJS = `function (sel, doName, state) {
	const el = document.querySelector(sel);
	let why = ''; // (why() in Go says the same for an error message)
	if (!el) why = 'no element matches';
	else if (!el.isConnected) why = 'detached';
	else if (!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) || getComputedStyle(el).visibility === 'hidden') why = 'not visible';
	else if (el.disabled || el.closest('fieldset[disabled]')) why = 'disabled';
	else if (el.closest('.htmx-request, .htmx-swapping, .htmx-settling')) why = 'inside an htmx request or swap in progress';
	else if (window.__browsertestXHR > 0) why = 'a request of the page is in flight (its response may replace the page)';
	if (why) { state.el = null; return false; }
	const now = performance.now();
	if (state.el !== el) { state.el = el; state.since = now; return false; }
	if (now - state.since < state.stableMs) return false;
	switch (doName) {
	case 'click':
		el.scrollIntoView({block: 'center'});
		el.click();
		break;
	case 'focus':
		el.scrollIntoView({block: 'center'});
		el.focus();
		if (document.activeElement !== el) { state.el = null; return false; }
		break;
	case 'set':
		if (el.tagName === 'SELECT' && el.hasAttribute('data-options') && !Array.from(el.options).some((o) => o.value === state.value)) {
			// A menu that loads its options when first used (app.js): as a
			// person would, use it and wait for them.
			el.focus();
			state.el = null;
			return false;
		}
		el.focus();
		el.value = state.value;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
		break;
	case 'check':
		break;
	case 'text':
		return {v: el.innerText};
	case 'value':
		return {v: el.value};
	case 'attr':
		return {v: el.getAttribute(state.value) || ''};
	}
	return {v: ''};
}`

// result is what readyJS returns once it has acted: an object, so that an
// empty text is still a truthy answer to the poll.
type result struct {
	V string `json:"v"`
}

// act runs readyJS for sel with the action doName until it reports done, or
// fails with the reason it was still waiting. A navigation or frame reload
// during the wait (the page it polled is gone) starts the wait again.
func act(sel, doName, value string, opts []Opt) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := read(sel, doName, value, opts)(ctx, t)
		return err
	})
}

// read is act for the actions that return a string.
func read(sel, doName, value string, opts []Opt) chromedp.Action[string] {
	var sc scope
	for _, o := range opts {
		o(&sc)
	}
	return func(ctx context.Context, t *chromedp.Target) (string, error) {
		deadline := time.Now().Add(ActTimeout)
		for {
			pollOpts := []chromedp.PollOption{
				chromedp.WithPollingInterval(20 * time.Millisecond),
				chromedp.WithPollingTimeout(time.Until(deadline)),
				// (value travels in the state object: chromedp drops an empty
				// string argument, which would arrive as undefined)
				chromedp.WithPollingArgs(sel, doName, map[string]any{"stableMs": stableFor.Milliseconds(), "value": value}),
			}
			if sc.frame != "" {
				frame, err := frameNode(ctx, t, sc.frame)
				if err != nil {
					return "", err
				}
				pollOpts = append(pollOpts, chromedp.WithPollingInFrame(frame))
			}
			res, err := chromedp.PollFunction[result](readyJS, pollOpts...)(ctx, t)
			switch {
			case err == nil:
				return res.V, nil
			case errors.Is(err, chromedp.ErrPollingTimeout):
				return "", fmt.Errorf("%s %q%s: gave up after %s: %s", doName, sel, inFrame(sc), ActTimeout, why(ctx, t, sel, sc))
			case ctx.Err() != nil:
				return "", fmt.Errorf("%s %q%s: %w (%s)", doName, sel, inFrame(sc), ctx.Err(), why(context.Background(), t, sel, sc))
			case pageGone(err) && time.Now().Before(deadline):
				time.Sleep(20 * time.Millisecond)
				continue
			default:
				return "", fmt.Errorf("%s %q%s: %w", doName, sel, inFrame(sc), err)
			}
		}
	}
}

func inFrame(sc scope) string {
	if sc.frame == "" {
		return ""
	}
	return " in " + sc.frame
}

// pageGone tells the errors of a poll whose document went away under it.
func pageGone(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Execution context was destroyed") ||
		strings.Contains(s, "Cannot find context with specified id") ||
		strings.Contains(s, "Inspected target navigated or closed") ||
		strings.Contains(s, "Could not find node with given id") ||
		// "Either ObjectId or executionContextId must be specified", and
		// newer Chromium's "Either objectId or executionContextId or
		// uniqueContextId must be specified": a frame between documents.
		strings.Contains(s, "executionContextId")
}

// why describes the element's state for an error message.
func why(ctx context.Context, t *chromedp.Target, sel string, sc scope) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	js := `(() => { const el = document.querySelector(` + quote(sel) + `);
		if (!el) return 'no element matches';
		if (!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)) return 'not visible';
		if (el.disabled) return 'disabled';
		if (el.closest('.htmx-request, .htmx-swapping, .htmx-settling')) return 'inside an htmx request or swap in progress';
		if (window.__browsertestXHR > 0) return window.__browsertestXHR + ' requests of the page in flight';
		return 'present and ready now: ' + el.outerHTML.slice(0, 200);
	})()`
	opts := []chromedp.PollOption{chromedp.WithPollingTimeout(time.Second)}
	if sc.frame != "" {
		frame, err := frameNode(ctx, t, sc.frame)
		if err != nil {
			return err.Error()
		}
		opts = append(opts, chromedp.WithPollingInFrame(frame))
	}
	s, err := chromedp.Poll[string](js, opts...)(ctx, t)
	if err != nil {
		return "state unknown: " + err.Error()
	}
	return s
}

// frameNode finds the iframe element frameSel matches, waiting for it.
func frameNode(ctx context.Context, t *chromedp.Target, frameSel string) (*chromedp.Node, error) {
	nodes, err := chromedp.Nodes(chromedp.CSS(frameSel), chromedp.NodeReady)(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("iframe %q: %w", frameSel, err)
	}
	return nodes[0], nil
}

// pendingXHR runs in every document of a tab before its own scripts: it
// counts the XMLHttpRequests in flight. A request ends at loadend, which
// comes after load, where htmx has already swapped its response in.
//
// It also keeps the document's trail for a failed test's log (Trail): each
// request's method, path and outcome, and each uncaught error, the last
// trailSize of them. A journey that stalls in CI then says whether a
// response never came, came as an error, or broke a script.
const pendingXHR = `(() => {
	if (window.__browsertestXHR !== undefined) return;
	window.__browsertestXHR = 0;
	const trail = window.__browsertestTrail = [], t0 = Date.now();
	const note = (s) => { trail.push('+' + (Date.now() - t0) + 'ms ' + s); if (trail.length > ` + trailSize + `) trail.shift(); };
	const open = XMLHttpRequest.prototype.open;
	XMLHttpRequest.prototype.open = function (method, url) {
		this.__browsertestWhat = method + ' ' + String(url).replace(location.origin, '');
		return open.apply(this, arguments);
	};
	const send = XMLHttpRequest.prototype.send;
	XMLHttpRequest.prototype.send = function () {
		window.__browsertestXHR++;
		const what = this.__browsertestWhat;
		note(what + ' sent');
		this.addEventListener('loadend', () => {
			window.__browsertestXHR--;
			note(what + ' -> ' + (this.status ? this.status + ' (' + this.responseText.length + ' chars)' : 'no response'));
		}, {once: true});
		return send.apply(this, arguments);
	};
	window.addEventListener('error', (e) => note('error: ' + e.message + ' at ' + e.filename + ':' + e.lineno));
	window.addEventListener('unhandledrejection', (e) => note('unhandled rejection: ' + e.reason));
})()`

// trailSize is how many entries a document's trail keeps.
const trailSize = "40"

// Trail returns the tab's address and what its document did lately (see
// pendingXHR), one entry a line, or why it could not be read.
func Trail(ctx context.Context) string {
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[location.pathname].concat(window.__browsertestTrail || []).join('\n')`))
	if err != nil {
		return "trail unknown: " + err.Error()
	}
	return s
}

// Click clicks the element sel matches once it is ready (see above). It is
// a DOM click (el.click()): the events htmx and the page listen to, without
// the mouse's pointer events.
func Click(sel string, opts ...Opt) chromedp.Action[chromedp.Void] {
	return act(sel, "click", "", opts)
}

// Focus gives the element sel matches the keyboard focus once it is ready.
func Focus(sel string, opts ...Opt) chromedp.Action[chromedp.Void] {
	return act(sel, "focus", "", opts)
}

// Type focuses the element sel matches once it is ready, then types keys
// with real key events (so the page's keyboard handlers, such as Enter to
// send, run as for a person). Keys add to what the field already holds.
func Type(sel, keys string, opts ...Opt) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := Focus(sel, opts...)(ctx, t); err != nil {
			return err
		}
		_, err := chromedp.KeyEvent(keys)(ctx, t)
		return err
	})
}

// SetValue sets the value of the input, textarea or select sel matches once
// it is ready, and fires input and change (a select's autosubmit form
// submits, an hx-trigger on input runs). A select whose options load when
// it is first used (data-options) is focused first, and set once the
// option is there.
func SetValue(sel, value string, opts ...Opt) chromedp.Action[chromedp.Void] {
	return act(sel, "set", value, opts)
}

// WaitReady waits until the element sel matches is ready for an action:
// present, visible, enabled, not being swapped, and stable.
func WaitReady(sel string, opts ...Opt) chromedp.Action[chromedp.Void] {
	return act(sel, "check", "", opts)
}

// Text returns the text (innerText) of the element sel matches, read once
// it is ready: after the requests and swaps in progress have landed.
func Text(sel string, opts ...Opt) chromedp.Action[string] {
	return read(sel, "text", "", opts)
}

// Value returns the value of the input, textarea or select sel matches,
// read once it is ready.
func Value(sel string, opts ...Opt) chromedp.Action[string] {
	return read(sel, "value", "", opts)
}

// Attr returns the attribute name of the element sel matches ("" when it is
// absent), read once it is ready.
func Attr(sel, name string, opts ...Opt) chromedp.Action[string] {
	return read(sel, "attr", name, opts)
}

// WaitFor waits until the JavaScript expression js is truthy in the page
// (or the frame), polling it; a navigation during the wait does not end it.
// It fails after ActTimeout with the expression in the message.
func WaitFor(js string, opts ...Opt) chromedp.Action[chromedp.Void] {
	var sc scope
	for _, o := range opts {
		o(&sc)
	}
	bound := cmp.Or(sc.within, ActTimeout)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		deadline := time.Now().Add(bound)
		for {
			pollOpts := []chromedp.PollOption{
				chromedp.WithPollingInterval(20 * time.Millisecond),
				chromedp.WithPollingTimeout(time.Until(deadline)),
			}
			if sc.frame != "" {
				frame, err := frameNode(ctx, t, sc.frame)
				if err != nil {
					return err
				}
				pollOpts = append(pollOpts, chromedp.WithPollingInFrame(frame))
			}
			_, err := chromedp.Poll[chromedp.Void]("!!("+js+")", pollOpts...)(ctx, t)
			switch {
			case err == nil:
				return nil
			case errors.Is(err, chromedp.ErrPollingTimeout):
				return fmt.Errorf("waited %s%s for: %s", bound, inFrame(sc), js)
			case ctx.Err() != nil:
				return fmt.Errorf("waiting%s for %s: %w", inFrame(sc), js, ctx.Err())
			case pageGone(err) && time.Now().Before(deadline):
				time.Sleep(20 * time.Millisecond)
				continue
			default:
				return fmt.Errorf("waiting%s for %s: %w", inFrame(sc), js, err)
			}
		}
	})
}

// quote makes s a JavaScript string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`).Replace(s) + "'"
}
