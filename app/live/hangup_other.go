//go:build !linux

package live

import "net"

// hangupWatcher is Linux-only; elsewhere the heartbeat finds dead clients.
type hangupWatcher struct{}

func newHangupWatcher(func(*liveStream)) *hangupWatcher { return nil }
func (w *hangupWatcher) add(net.Conn, *liveStream)      {}
func (w *hangupWatcher) remove(*liveStream)             {}
