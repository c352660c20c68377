// Package browsertest drives the system's Chromium with chromedp for
// Parley's end-to-end tests: one headless browser per test process (and a
// second, on demand, for the customer's side of a journey between two
// people's browsers), and a fresh, isolated browser context (its own
// cookies and storage) per tab, so one test can play an admin, an agent and
// a customer at once.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser;
// PARLEY_CHROMIUM overrides it.
const ChromiumPath = "/usr/bin/chromium"

// instance is one Chromium process, launched on first use.
type instance struct {
	once    sync.Once
	browser context.Context
	err     error
}

// main serves every tab of Tab; second, those of SecondBrowserTab.
var main, second instance

func chromium() (string, error) {
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		return p, nil
	}
	if _, err := os.Stat(ChromiumPath); err == nil {
		return ChromiumPath, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("Chromium is needed for browser tests: run 'make test' (it installs it) or 'apt-get install chromium'")
}

// launch starts a Chromium process with its own profile and returns its
// browser context.
func launch() (context.Context, error) {
	path, err := chromium()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "parley-chromium-*")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // Chromium refuses to sandbox as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-proxy-server", true),
		// chromedp's own list (a flag given again replaces it), plus the
		// tab strip's WebUI that headless Chromium preloads in a renderer
		// process of its own for every browser context: a second process
		// per tab, which no test looks at.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebUIOmniboxPopup,WebUIOmniboxAimPopup"),
		// Remote support (WebRTC): fake camera, microphone and screen, with
		// every permission prompt answered yes, the whole screen picked for
		// getDisplayMedia, and sound that may play without a gesture.
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", "display-media-type=monitor"),
		chromedp.Flag("auto-select-desktop-capture-source", "Entire screen"),
		chromedp.Flag("auto-accept-this-tab-capture", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 900),
		// A desktop with a mouse, as the desk's agents have: headless
		// Chromium otherwise reports no hover and no pointer, as a device
		// without either would (TouchScreen makes a tab a touch screen).
		chromedp.Flag("blink-settings", "primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4"),
	)
	allocCtx, _ := chromedp.NewExecAllocator(context.Background(), opts...)
	b, _ := chromedp.NewContext(allocCtx)
	// Launch now, so the first test does not pay for it in its timeout. The
	// browser lives as long as the context that launched it: use b itself,
	// not a child with a deadline.
	return b, chromedp.Do(b)
}

func (in *instance) start() (context.Context, error) {
	in.once.Do(func() { in.browser, in.err = launch() })
	return in.browser, in.err
}

// SkipShort skips a browser test under `go test -short`, whose budget (the
// whole suite in under a minute) has no room for Chromium. Browser tests call
// it first, before their setup; Tab calls it too, as a backstop.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
}

// Tab opens a new tab in its own browser context and returns its chromedp
// context; it closes when the test ends. The tab lives timeout, or
// MinTabLife if that is longer.
func Tab(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	return tabIn(t, &main, timeout)
}

// SecondBrowserTab is Tab in a second Chromium process of its own, for
// journeys between two people's browsers that must not share one process
// (WebRTC between a customer and an agent, co-browsing): the customer's
// side runs here, the desk in Tab's.
func SecondBrowserTab(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	return tabIn(t, &second, timeout)
}

// MinTabLife is the least a tab lives. A tab's life is a backstop against a
// test that hangs, not a measure of speed: each action has its own bound
// (ActTimeout), and on a loaded CI machine (load average 20 and more on two
// cores) a journey of three or four tabs takes minutes. Tabs that lived 90
// or 120 s were cut off mid-journey there, with every action still within
// its own bound.
const MinTabLife = 6 * time.Minute

func tabIn(t testing.TB, in *instance, timeout time.Duration) context.Context {
	t.Helper()
	SkipShort(t)
	timeout = max(timeout, MinTabLife)
	b, err := in.start()
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	t.Cleanup(func() { // first, while the tab is open
		if t.Failed() {
			t.Logf("the tab's page, lately: %s", Trail(ctx))
		}
	})
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pendingXHR})
		return err
	})); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return ctx
}

// TouchScreen makes the tab a touch screen, as a phone or tablet is: its
// pages see hover: none and pointer: coarse, and may get touch events.
func TouchScreen() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 5})
		return err
	})
}

// Screenshot saves a PNG of the tab's viewport to path (tests use it to keep
// a picture of a failure, and the README's screenshot comes from it).
func Screenshot(ctx context.Context, path string) error {
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}
