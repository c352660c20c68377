//go:build linux

package live

import (
	"net"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hangupWatcher notices at once when a client closes its stream, without a
// goroutine per connection: one epoll instance watches every hijacked socket
// for the peer's hang-up (RDHUP/HUP/ERR). Events carry a stream number, not
// the file descriptor, so a descriptor reused by a new connection can never
// close the wrong stream.
type hangupWatcher struct {
	epfd     int
	onHangup func(*liveStream)

	mu      sync.Mutex
	next    uint64
	streams map[uint64]*liveStream
	fds     map[*liveStream]int
	ids     map[*liveStream]uint64
}

func newHangupWatcher(onHangup func(*liveStream)) *hangupWatcher {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil // no watcher: dead clients are still found by the heartbeat
	}
	w := &hangupWatcher{epfd: epfd, onHangup: onHangup, streams: map[uint64]*liveStream{},
		fds: map[*liveStream]int{}, ids: map[*liveStream]uint64{}}
	go w.run()
	return w
}

func (w *hangupWatcher) add(conn net.Conn, s *liveStream) {
	if w == nil {
		return
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.next++
	id := w.next
	raw.Control(func(fd uintptr) { //nolint:errcheck // a failed Control leaves the heartbeat to notice
		ev := unix.EpollEvent{Events: unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR | unix.EPOLLET}
		*(*uint64)(unsafePointer(&ev.Fd)) = id
		if unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev) == nil {
			w.streams[id], w.fds[s], w.ids[s] = s, int(fd), id
		}
	})
}

// remove stops watching s; call it before closing s's connection.
func (w *hangupWatcher) remove(s *liveStream) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	fd, ok := w.fds[s]
	if !ok {
		return
	}
	unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, fd, nil) //nolint:errcheck
	delete(w.streams, w.ids[s])
	delete(w.fds, s)
	delete(w.ids, s)
}

func (w *hangupWatcher) run() {
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(w.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for i := range n {
			id := *(*uint64)(unsafePointer(&events[i].Fd))
			w.mu.Lock()
			s := w.streams[id]
			w.mu.Unlock()
			if s != nil {
				w.onHangup(s)
			}
		}
	}
}

// unsafePointer lets the watcher use the 8 bytes of an epoll event's data
// union (Fd and Pad) as one stream number.
func unsafePointer(p *int32) unsafe.Pointer { return unsafe.Pointer(p) }
