package app

import "unsafe"

// unsafePointer lets the epoll watcher use the 8 bytes of an event's data
// union (Fd and Pad) as one stream number.
func unsafePointer(p *int32) unsafe.Pointer { return unsafe.Pointer(p) }
