package storage

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Clamd scans streams with ClamAV's daemon over its socket (INSTREAM):
// the bytes are sent in chunks as they arrive, and clamd answers once the
// stream ends. Its stream limit (clamd.conf StreamMaxLength, 25 MB by
// default) must be at least the desk's largest file, or larger uploads
// fail the scan (ErrScanFailed) and are refused.
type Clamd struct {
	// Network and Address: "unix" and a socket path, or "tcp" and
	// host:port (PARLEY_CLAMD: a path, or tcp://host:port).
	Network, Address string
	// Timeout bounds the wait for the verdict after the last byte.
	Timeout time.Duration
}

// ParseClamd reads PARLEY_CLAMD: a socket path or tcp://host:port.
func ParseClamd(s string) (*Clamd, error) {
	switch {
	case s == "":
		return nil, nil
	case strings.HasPrefix(s, "tcp://"):
		addr := strings.TrimPrefix(s, "tcp://")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("want tcp://host:port or a socket path, got %q", s)
		}
		return &Clamd{Network: "tcp", Address: addr, Timeout: time.Minute}, nil
	case strings.HasPrefix(s, "/"):
		return &Clamd{Network: "unix", Address: s, Timeout: time.Minute}, nil
	}
	return nil, fmt.Errorf("want tcp://host:port or an absolute socket path, got %q", s)
}

// Verdict is a scan's result.
type Verdict struct {
	Infected  bool
	Signature string // what clamd found, e.g. "Eicar-Test-Signature"
}

// ErrScanFailed is a scan that gave no verdict (clamd unreachable, a
// stream over its limit, a protocol error): the upload is refused as not
// checked, and may be retried.
var ErrScanFailed = errors.New("virus scan failed")

// chunk is the size of each INSTREAM chunk.
const chunk = 32 << 10

// Ping checks that clamd answers (readiness, tests).
func (c *Clamd) Ping(ctx context.Context) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return fmt.Errorf("%w: %v", ErrScanFailed, err)
	}
	reply, err := bufio.NewReader(conn).ReadString(0)
	if err != nil || strings.TrimRight(reply, "\x00") != "PONG" {
		return fmt.Errorf("%w: ping: %q %v", ErrScanFailed, reply, err)
	}
	return nil
}

func (c *Clamd) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, c.Network, c.Address)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrScanFailed, err)
	}
	return conn, nil
}

// Scan streams r to clamd and returns its verdict. It reads r to its end
// even when clamd stops listening early, so a reader shared with the
// store (a tee) is never left blocked.
func (c *Clamd) Scan(ctx context.Context, r io.Reader) (v Verdict, err error) {
	defer func() {
		if _, derr := io.Copy(io.Discard, r); derr != nil && err == nil {
			err = fmt.Errorf("%w: %v", ErrScanFailed, derr)
		}
	}()
	conn, err := c.dial(ctx)
	if err != nil {
		return v, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write([]byte("zINSTREAM\x00")); err != nil {
		return v, fmt.Errorf("%w: %v", ErrScanFailed, err)
	}
	buf := make([]byte, 4+chunk)
	for {
		n, rerr := io.ReadFull(r, buf[4:])
		if n > 0 {
			binary.BigEndian.PutUint32(buf[:4], uint32(n))
			if _, err := conn.Write(buf[:4+n]); err != nil {
				// clamd closed the stream early: over StreamMaxLength.
				return v, fmt.Errorf("%w: %v", ErrScanFailed, c.reply(conn, err))
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return v, rerr
		}
	}
	if _, err := conn.Write([]byte{0, 0, 0, 0}); err != nil {
		return v, fmt.Errorf("%w: %v", ErrScanFailed, err)
	}
	if c.Timeout > 0 {
		conn.SetReadDeadline(time.Now().Add(c.Timeout))
	}
	reply, err := bufio.NewReader(conn).ReadString(0)
	if err != nil && reply == "" {
		return v, fmt.Errorf("%w: %v", ErrScanFailed, err)
	}
	return parseReply(strings.TrimRight(reply, "\x00\n"))
}

// reply reads what clamd said before closing (its reason), else err.
func (c *Clamd) reply(conn net.Conn, err error) error {
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if s, rerr := bufio.NewReader(conn).ReadString(0); rerr == nil || s != "" {
		return errors.New(strings.TrimRight(s, "\x00\n"))
	}
	return err
}

// parseReply reads "stream: OK", "stream: <name> FOUND" or "... ERROR".
func parseReply(s string) (Verdict, error) {
	_, res, _ := strings.Cut(s, ": ")
	switch {
	case res == "OK":
		return Verdict{}, nil
	case strings.HasSuffix(res, " FOUND"):
		return Verdict{Infected: true, Signature: strings.TrimSuffix(res, " FOUND")}, nil
	}
	return Verdict{}, fmt.Errorf("%w: clamd said %q", ErrScanFailed, s)
}
