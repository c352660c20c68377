package pgembed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrInUse means another process holds the cluster: a second Parley would
// otherwise fight the first over one data directory. The wrapped message
// names the directory and, when known, the other process's pid.
var ErrInUse = errors.New("cluster directory is in use by another Parley")

// Lock modes written into the lock file after the pid, so that a waiter can
// tell a brief start-up hold (worth waiting for) from a lifetime hold.
const (
	lockLifetime = "lifetime"
	lockStartup  = "startup"
)

// startupLockWait bounds how long a detached Start waits for another
// process's start-up (an initdb takes about a second here).
const startupLockWait = 60 * time.Second

// lockCluster takes an exclusive flock on <dir>.lock. The kernel releases
// it when the process dies, even by SIGKILL, so a crash never leaves the
// cluster locked. A lifetime lock fails at once when held; a start-up lock
// waits for other start-ups but not for a lifetime holder.
func lockCluster(ctx context.Context, dir, mode string) (*os.File, error) {
	path := dir + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgembed: open lock file: %w", err)
	}
	deadline := time.Now().Add(startupLockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("pgembed: lock %s: %w", path, err)
		}
		pid, holderMode := lockHolder(path)
		if mode == lockLifetime || holderMode == lockLifetime || time.Now().After(deadline) {
			f.Close()
			if pid > 0 {
				return nil, fmt.Errorf("pgembed: %s is used by process %d (lock %s); stop that Parley first or choose another directory: %w", dir, pid, path, ErrInUse)
			}
			return nil, fmt.Errorf("pgembed: %s is used by another process (lock %s); stop it first or choose another directory: %w", dir, path, ErrInUse)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Best effort: the pid only makes error messages more helpful.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("%d %s\n", os.Getpid(), mode)), 0)
	}
	return f, nil
}

func lockHolder(path string) (int, string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, ""
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, ""
	}
	pid, _ := strconv.Atoi(f[0])
	return pid, f[1]
}
