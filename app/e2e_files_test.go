package app

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/filetest"
	"github.com/parleydesk/parley/models"
)

// fileJS defines, in a tab, a File made of bytes (base64) and events that
// hand it to a composer the way a browser does: a paste (the clipboard's
// files) and a drop (the drag's files).
const fileJS = `
window.__file = function (b64, name, type) {
  var s = atob(b64), a = new Uint8Array(s.length);
  for (var i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return new File([a], name, {type: type});
};
window.__paste = function (sel, f) {
  var dt = new DataTransfer(); dt.items.add(f);
  document.querySelector(sel).dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
  return true;
};
window.__drop = function (sel, f) {
  var dt = new DataTransfer(), el = document.querySelector(sel); dt.items.add(f);
  el.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
  el.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
  return true;
};
'ok'`

// The journeys of issue 14 with files in S3: a customer pastes a
// screenshot into the widget that the agent sees as a thumbnail and
// downloads intact; an agent drags a PDF into the desk composer and the
// customer downloads it; an EICAR file is refused on both sides (clamd).
func TestBrowserFiles(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	clamd := filetest.StartClamd(t)
	cfg := s3Config(filetest.StartS3(t))
	cfg["PARLEY_CLAMD"] = clamd.Address
	e := setup(t, envOpts{config: cfg})
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("My screen looks wrong")

	boot, err := json.Marshal(map[string]string{"t": w.token, "c": pid})
	require.NoError(t, err)
	widget := browsertest.Tab(t, 150*time.Second)
	defer keepScreenshot(t, widget)
	require.NoError(t, chromedp.Do(widget,
		chromedp.Navigate(e.srv.URL+"/widget/frame?view=page#"+url.PathEscape(string(boot))),
		browsertest.WaitFor(`document.querySelector('#w-thread') && document.querySelector('#w-thread').textContent.includes('My screen looks wrong')`),
		browsertest.WaitFor(`window.ParleyFiles === true`),
	))
	jsText(t, widget, fileJS)

	// A screenshot (a real PNG the page draws) pasted into the widget.
	png := jsText(t, widget, `(function () {
		var c = document.createElement('canvas'); c.width = 64; c.height = 40;
		var g = c.getContext('2d'); g.fillStyle = '#c0392b'; g.fillRect(0, 0, 64, 40); g.fillStyle = '#fff'; g.fillRect(8, 8, 20, 10);
		var b64 = c.toDataURL('image/png').split(',')[1];
		__paste('#w-body', __file(b64, 'image.png', 'image/png'));
		return b64;
	})()`)
	pngBytes, err := base64.StdEncoding.DecodeString(png)
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('#w-composer [data-chip]')`),
		browsertest.Click(`#w-composer button[type=submit]`),
		browsertest.WaitFor(`document.querySelector('#w-thread img.w-file-thumb')`),
	))

	desk := deskTabFor(t, e, "sam@example.com", 150*time.Second)
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/conversations/"+pid),
		browsertest.WaitFor(`(function () { var i = document.querySelector('#messages img.file-thumb'); return i && i.complete && i.naturalWidth === 64; })()`),
	))
	src := jsText(t, desk, `document.querySelector('#messages img.file-thumb').getAttribute('src')`)
	res, body := fetch(t, e, src)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, pngBytes, body, "the agent downloads the same bytes")
	href := jsText(t, desk, `document.querySelector('#messages .file-image a.file-card').getAttribute('href')`)
	res, body = fetch(t, e, href)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, pngBytes, body)
	assert.True(t, strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment"))

	// The agent drags a PDF into the desk composer and sends it.
	require.NoError(t, chromedp.Do(desk,
		browsertest.WaitFor(`window.ParleyFiles === true`),
	))
	jsText(t, desk, fileJS)
	jsText(t, desk, `String(__drop('#f-body', __file(`+jsString(base64.StdEncoding.EncodeToString(pdfFile))+`, 'guide.pdf', 'application/pdf')))`)
	require.NoError(t, chromedp.Do(desk,
		browsertest.WaitFor(`document.querySelector('#composer [data-chip]')`),
		browsertest.Click(`#composer button[type=submit]`),
		browsertest.WaitFor(`document.querySelector('#messages .file-pdf a.file-card')`),
	))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('#w-thread .w-file-pdf a.w-file-card')`),
	))
	href = jsText(t, widget, `document.querySelector('#w-thread .w-file-pdf a.w-file-card').getAttribute('href')`)
	res, body = fetch(t, e, href)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, pdfFile, body, "the customer downloads the agent's PDF")

	// EICAR, on both sides: refused, said so in the chip, nothing stored.
	eicar := jsString(base64.StdEncoding.EncodeToString([]byte(filetest.EICAR)))
	jsText(t, widget, `String(__paste('#w-body', __file(`+eicar+`, 'eicar.txt', 'text/plain')))`)
	jsText(t, desk, `String(__drop('#f-body', __file(`+eicar+`, 'eicar.txt', 'text/plain')))`)
	for _, tab := range []struct {
		name string
		sel  string
	}{{"widget", "#w-composer .w-attach-failed"}, {"desk", "#composer .attach-failed"}} {
		ctx := widget
		if tab.name == "desk" {
			ctx = desk
		}
		require.NoError(t, chromedp.Do(ctx, browsertest.WaitFor(`document.querySelector('`+tab.sel+`')`)), tab.name)
		assert.Contains(t, jsText(t, ctx, `document.querySelector('`+tab.sel+`').textContent`), "the virus scan found "+filetest.EICARSignature, tab.name)
	}
	var n int64
	require.NoError(t, e.db.Model(&models.File{}).Where("name = 'eicar.txt'").Count(&n).Error)
	assert.Zero(t, n)
	assert.Equal(t, 2, storedObjects(t, e), "the screenshot and the PDF only")
	require.NoError(t, chromedp.Do(desk,
		browsertest.WaitFor(`[...document.querySelectorAll('#messages .msg-system')].some(m => m.textContent.includes('eicar.txt contains'))`),
	))
}
