package app

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
)

// heartbeat keeps idle streams (and the proxies between) open, and carries
// the resume position so a long-idle client never resumes from too far back.
const heartbeat = 20 * time.Second

// sseStream writes Server-Sent Events to one client.
type sseStream struct {
	res *echo.Response
}

func openStream(c echo.Context) *sseStream {
	h := c.Response().Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Response().WriteHeader(http.StatusOK)
	s := &sseStream{res: c.Response()}
	fmt.Fprint(s.res, "retry: 2000\n\n")
	s.res.Flush()
	return s
}

// send writes one event; multi-line data becomes several data: lines. An
// empty id leaves the client's resume position as it was.
func (s *sseStream) send(event, id, data string) error {
	var b strings.Builder
	if event != "" {
		b.WriteString("event: " + event + "\n")
	}
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	b.WriteString("\n")
	if _, err := s.res.Write([]byte(b.String())); err != nil {
		return err
	}
	s.res.Flush()
	return nil
}

// resumePoint is where a client's stream starts: the Last-Event-ID the
// browser sends on reconnect, the last_event_id parameter app.js adds when it
// opens a fresh EventSource, or the since parameter of the page that was
// rendered. Zero means "from now".
func resumePoint(c echo.Context) uint64 {
	for _, v := range []string{c.Request().Header.Get("Last-Event-ID"), c.QueryParam("last_event_id"), c.QueryParam("since")} {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// batchRenderer turns a batch into the SSE events one viewer should get
// (name and data, in order), leaving out whatever that viewer may not see.
// events holds only those the client has not had yet.
type batchRenderer func(ctx context.Context, b *Batch, events []models.Event) ([][2]string, error)

// streamEvents serves a live stream: it subscribes, replays what the client
// missed since its resume point, then forwards live batches until the client
// leaves, the server shuts down, or the client falls too far behind (it then
// reconnects and resumes). Every batch ends with the new resume position as
// the event id.
func (a *App) streamEvents(c echo.Context, render batchRenderer) error {
	ctx := c.Request().Context()
	since := resumePoint(c)
	sub, cur := a.rt.Subscribe()
	defer a.rt.Unsubscribe(sub)

	if since > 0 && since < cur {
		pruned, err := models.PrunedBefore(ctx, a.db)
		if err != nil {
			return err
		}
		if since < pruned {
			// Too far behind: what it missed is gone. Reload the page.
			s := openStream(c)
			return s.send("reload", "", "")
		}
	}
	s := openStream(c)
	pos := max(since, cur)
	deliver := func(b *Batch) error {
		var evs []models.Event
		for _, e := range b.Events {
			if e.XID >= since { // a client from a faster instance may be ahead of us
				evs = append(evs, e)
			}
		}
		out, err := render(ctx, b, evs)
		if err != nil {
			return err
		}
		pos = max(pos, b.To)
		id := strconv.FormatUint(pos, 10)
		if len(out) == 0 {
			return nil
		}
		for i, ev := range out {
			evID := ""
			if i == len(out)-1 {
				evID = id // the position moves only once the whole batch is written
			}
			if err := s.send(ev[0], evID, ev[1]); err != nil {
				return err
			}
		}
		return nil
	}
	if since > 0 && since < cur {
		b, err := LoadBatch(ctx, a.db, since, cur)
		if err != nil {
			return err
		}
		if err := deliver(b); err != nil {
			return err
		}
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.stopping:
			return nil
		case <-sub.Dropped():
			return nil
		case <-tick.C:
			if err := s.send("sync", strconv.FormatUint(pos, 10), ""); err != nil {
				return nil
			}
		case b := <-sub.C:
			if err := deliver(b); err != nil {
				reqLog(c).Debug("stream ended", "err", err)
				return nil
			}
		}
	}
}
