package app

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// Remote support between two isolated browser contexts (the agent's desk,
// the customer's full-page chat) with Chromium's fake screen, camera and
// microphone, connected relay-only through the embedded TURN server on
// loopback: the agent asks to see the screen, the customer accepts and
// sees that they are sharing, the agent's side panel shows a live
// thumbnail (frames decoded, time advancing) that expands; the agent's
// pointer reaches the customer's overlay over the data channel; the agent
// stops it. Then an audio call connects and the customer hangs up; the
// agent shows their own screen to the customer; then a browser that cannot
// capture its screen declines by itself and says so.
// Every step is a status line both sides see, with the duration.
func TestBrowserRemoteSupport(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t, envOpts{config: map[string]string{"PARLEY_TURN_LISTEN": "127.0.0.1:0", "PARLEY_ICE_TRANSPORT_POLICY": "relay"}})
	require.NotEmpty(t, e.app.TURNAddr())
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("My screen looks wrong")

	boot, err := json.Marshal(map[string]string{"t": w.token, "c": pid})
	require.NoError(t, err)
	// The customer's browser is a Chromium process of its own.
	widget := browsertest.SecondBrowserTab(t, 180*time.Second)
	defer keepScreenshot(t, widget)
	require.NoError(t, chromedp.Do(widget,
		chromedp.Navigate(e.srv.URL+"/widget/frame?view=page#"+url.PathEscape(string(boot))),
		browsertest.WaitFor(`document.querySelector('#w-thread') && document.querySelector('#w-thread').textContent.includes('My screen looks wrong')`),
	))
	desk := deskTabFor(t, e, "sam@example.com", 180*time.Second)
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/conversations/"+pid),
		browsertest.WaitReady(`#rtc-panel [data-rtc-request="screen"]`),
	))
	assert.Equal(t, "false", jsText(t, desk, `String(!!window.ParleyRTC)`), "rtc.js is not loaded before it is used")

	// 1. Screen sharing, customer → agent.
	require.NoError(t, chromedp.Do(desk, browsertest.Click(`#rtc-panel [data-rtc-request="screen"]`)))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('#w-rtc [data-rtc-accept]') && document.querySelector('#w-rtc').textContent.includes('Sam would like to see your screen')`),
		browsertest.Click(`#w-rtc [data-rtc-accept]`),
	))
	require.NoError(t, chromedp.Do(desk,
		until(`(function(){var v=document.querySelector('#rtc-stage video.rtc-thumb'); return v && v.videoWidth > 0;})()`),
	))
	t0 := jsText(t, desk, `String(document.querySelector('#rtc-stage video.rtc-thumb').currentTime)`)
	require.NoError(t, chromedp.Do(desk,
		until(`document.querySelector('#rtc-stage video.rtc-thumb').currentTime > `+t0+` + 0.3`),
		until(`document.querySelector('#rtc-panel').getAttribute('data-state') === 'started'`),
	))
	setup := jsText(t, desk, `String(ParleyRTC.metrics.firstFrame - ParleyRTC.metrics.requested)`)
	afterAccept := jsText(t, desk, `String(ParleyRTC.metrics.firstFrame - ParleyRTC.metrics.accepted)`)
	t.Logf("screen share: request → first frame %s ms (accepted → first frame %s ms), relay through the embedded TURN", setup, afterAccept)
	ms, _ := strconv.Atoi(setup)
	assert.Positive(t, ms)
	// Relay-only: the selected pair is a TURN relay.
	require.NoError(t, chromedp.Do(desk,
		until(`(window.__relay = window.__relay || ParleyRTC.session().pc.getStats().then(function(r){var ok=false; r.forEach(function(s){ if (s.type==='local-candidate' && s.candidateType==='relay') ok=true; }); window.__relayOK = ok;})), window.__relayOK === true`),
	))

	// The customer sees plainly that they share their screen.
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('#w-rtc .w-rtc-sharing') && document.querySelector('#w-rtc').textContent.includes('You are sharing your screen with Sam')`),
		browsertest.WaitFor(`document.querySelector('#w-rtc-stage video.rtc-self') && document.querySelector('#w-rtc-stage video.rtc-self').videoWidth > 0`),
	))

	// Expand to the viewer (fit, then full size) and close it.
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click(`#rtc-stage [data-rtc-expand]`),
		until(`document.querySelector('.rtc-viewer.rtc-fit video.rtc-big')`),
		browsertest.Click(`.rtc-viewer [data-rtc-fit]`),
		until(`document.querySelector('.rtc-viewer') && !document.querySelector('.rtc-viewer').classList.contains('rtc-fit')`),
		browsertest.Click(`.rtc-viewer [data-rtc-close]`),
		until(`!document.querySelector('.rtc-viewer')`),
	))

	// 2. The agent points: the customer's overlay gets it.
	require.NoError(t, chromedp.Do(desk,
		until(`ParleyRTC.session() && ParleyRTC.session().dc && ParleyRTC.session().dc.readyState === 'open'`),
		chromedp.Evaluate[chromedp.Void](`window.__pointing = setInterval(function(){
			var v = document.querySelector('#rtc-stage video.rtc-thumb'), r = v.getBoundingClientRect();
			v.dispatchEvent(new PointerEvent('pointermove', {clientX: r.left + r.width/2, clientY: r.top + r.height/2, bubbles: true}));
		}, 50)`),
	))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`window.ParleyRTC && ParleyRTC.lastPointer && ParleyRTC.lastPointer.t === 'p' && Math.abs(ParleyRTC.lastPointer.x - 0.5) < 0.05`),
	))
	require.NoError(t, chromedp.Do(desk, chromedp.Evaluate[chromedp.Void](`clearInterval(window.__pointing)`)))

	// The agent stops: both sides return to rest; the line has the duration.
	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click(`#rtc-panel [data-rtc-end]`),
		until(`document.querySelector('#rtc-panel [data-rtc-request="audio"]') && !document.querySelector('#rtc-stage video')`),
		until(`[...document.querySelectorAll('#messages .msg-system')].some(m => /Screen sharing ended by Sam after 0:0[1-9]/.test(m.textContent))`),
	))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`!document.querySelector('#w-rtc .w-rtc-live') && !document.querySelector('#w-rtc-stage video')`),
		browsertest.WaitFor(`[...document.querySelectorAll('#w-thread .w-sysline')].some(m => m.textContent.includes('Screen sharing ended by Sam'))`),
	))
	var s models.RTCSession
	require.NoError(t, e.db.Where("kind = ?", models.RTCScreen).Take(&s).Error)
	assert.Equal(t, models.RTCEnded, s.State)
	assert.NotNil(t, s.StartedAt)
	assert.GreaterOrEqual(t, s.Duration(), time.Second)

	// 3. An audio call: ring, answer, connected, the customer hangs up.
	require.NoError(t, chromedp.Do(desk, browsertest.Click(`#rtc-panel [data-rtc-request="audio"]`)))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('#w-rtc [data-rtc-accept]') && document.querySelector('#w-rtc').textContent.includes('Sam is calling you')`),
		browsertest.Click(`#w-rtc [data-rtc-accept]`),
		browsertest.WaitFor(`ParleyRTC.session() && ParleyRTC.session().pc && ParleyRTC.session().pc.connectionState === 'connected'`),
	))
	require.NoError(t, chromedp.Do(desk,
		until(`ParleyRTC.session() && ParleyRTC.session().pc && ParleyRTC.session().pc.connectionState === 'connected' && document.querySelector('#rtc-stage audio.rtc-remote')`),
		until(`document.querySelector('#rtc-panel').getAttribute('data-state') === 'started'`),
		// The agent mutes and unmutes.
		browsertest.Click(`#rtc-stage [data-rtc-mute]`),
		until(`ParleyRTC.session().local.getAudioTracks()[0].enabled === false`),
		browsertest.Click(`#rtc-stage [data-rtc-mute]`),
		until(`ParleyRTC.session().local.getAudioTracks()[0].enabled === true`),
	))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('#w-rtc').textContent.includes('In a call with Sam')`),
		browsertest.Click(`#w-rtc [data-rtc-end]`),
		browsertest.WaitFor(`!document.querySelector('#w-rtc .w-rtc-live')`),
	))
	require.NoError(t, chromedp.Do(desk,
		until(`!ParleyRTC.session() && document.querySelector('#rtc-panel [data-rtc-request="audio"]')`),
		until(`[...document.querySelectorAll('#messages .msg-system')].some(m => m.textContent.includes('Call ended by'))`),
	))
	var call models.RTCSession
	require.NoError(t, e.db.Where("kind = ?", models.RTCAudio).Take(&call).Error)
	assert.Equal(t, models.RTCEnded, call.State)
	assert.NotNil(t, call.StartedAt)
	assert.Equal(t, "hangup", call.EndReason)

	// 4. The agent shows their own screen: the customer views it.
	require.NoError(t, chromedp.Do(desk, browsertest.Click(`#rtc-panel [data-rtc-request="agent_screen"]`)))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('#w-rtc [data-rtc-accept]') && document.querySelector('#w-rtc').textContent.includes('Sam would like to show you their screen')`),
		browsertest.Click(`#w-rtc [data-rtc-accept]`),
		browsertest.WaitFor(`(function(){var v=document.querySelector('#w-rtc-stage video.rtc-remote'); return v && v.videoWidth > 0;})()`),
		browsertest.WaitFor(`document.querySelector('#w-rtc').textContent.includes('Sam is showing you their screen')`),
	))
	t.Logf("agent's screen: customer's accept → first frame at the customer %s ms", jsText(t, widget, `String(ParleyRTC.metrics.firstFrame - ParleyRTC.metrics.accepted)`))
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click(`#rtc-panel [data-rtc-end]`),
		until(`document.querySelector('#rtc-panel [data-rtc-request="screen"]')`),
	))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`!document.querySelector('#w-rtc-stage video')`),
	))

	// 5. A browser without screen capture (a phone): declined by itself,
	// with the alternatives offered and a line saying why.
	require.NoError(t, chromedp.Do(widget, chromedp.Evaluate[chromedp.Void](`delete MediaDevices.prototype.getDisplayMedia`)))
	require.NoError(t, chromedp.Do(desk, browsertest.Click(`#rtc-panel [data-rtc-request="screen"]`)))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('#w-rtc [data-rtc-accept]')`),
		browsertest.Click(`#w-rtc [data-rtc-accept]`),
		browsertest.WaitFor(`document.querySelector('#w-toasts') && document.querySelector('#w-toasts').textContent.includes('cannot share its screen')`),
	))
	require.NoError(t, chromedp.Do(desk,
		until(`[...document.querySelectorAll('#messages .msg-system')].some(m => m.textContent.includes('this browser cannot share its screen'))`),
		until(`document.querySelector('#rtc-panel [data-rtc-request="screen"]')`),
	))
	// The chat still works.
	require.NoError(t, chromedp.Do(widget,
		browsertest.SetValue("#w-body", "ok, I will describe it"),
		browsertest.Click(`#w-composer button[type=submit]`),
	))
	require.NoError(t, chromedp.Do(desk,
		until(`document.querySelector('#messages').textContent.includes('ok, I will describe it')`),
	))
}
