package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// A click waits for the page's request in flight to land: the response
// replaces the button, and the click must reach the new one (chromedp.Click
// clicks the old one at once, or fails on its node id if the swap lands in
// between).
func TestBrowserClickWaitsForTheRequestInFlight(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
			fmt.Fprint(w, "new")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><body>
<button id="b" onclick="document.getElementById('out').textContent = 'old'">old</button>
<p id="out">none</p>
<script>
const x = new XMLHttpRequest();
x.open('GET', '/slow');
x.onload = () => {
	const b = document.createElement('button');
	b.id = 'b';
	b.textContent = x.responseText;
	b.onclick = () => { document.getElementById('out').textContent = 'new'; };
	document.getElementById('b').replaceWith(b);
};
x.send();
</script></body></html>`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	tab := Tab(t, 60*time.Second)
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(srv.URL)))
	<-started
	clicked := make(chan error, 1)
	go func() { clicked <- chromedp.Do(tab, Click("#b")) }()
	// Give a click that does not wait the time to happen, then answer.
	time.Sleep(300 * time.Millisecond)
	close(release)
	require.NoError(t, <-clicked)
	out, err := chromedp.Run(tab, Text("#out"))
	require.NoError(t, err)
	require.Equal(t, "new", out)
}

// Type focuses the field found at that moment and types real keys; SetValue
// fires input and change; Value and Attr read them back.
func TestBrowserTypeAndSetValue(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><body>
<input id="name"><select id="s"><option value="a">A</option><option value="b">B</option></select>
<p id="log" data-n="0"></p>
<script>
document.getElementById('name').addEventListener('keydown', e => { if (e.key === 'Enter') document.getElementById('log').textContent += 'enter;'; });
document.getElementById('s').addEventListener('change', e => { document.getElementById('log').textContent += 'change ' + e.target.value + ';'; });
</script></body></html>`)
	}))
	t.Cleanup(srv.Close)
	tab := Tab(t, 60*time.Second)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(srv.URL),
		Type("#name", "Ada\r"),
		SetValue("#s", "b"),
		WaitFor(`document.getElementById('log').textContent === 'enter;change b;'`),
	))
	v, err := chromedp.Run(tab, Value("#name"))
	require.NoError(t, err)
	require.Equal(t, "Ada", v)
	id, err := chromedp.Run(tab, Attr("#s", "id"))
	require.NoError(t, err)
	require.Equal(t, "s", id)
}
