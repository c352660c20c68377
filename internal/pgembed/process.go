package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// postmasterPID is what a running server writes to <PGDATA>/postmaster.pid
// (see PostgreSQL's pidfile.h): it tells a later Start which process serves
// the cluster and where, so a left-over server can be stopped or reused.
type postmasterPID struct {
	pid       int
	port      int
	socketDir string
	listen    string // first of listen_addresses; "" when only the socket
}

func readPostmasterPID(dir string) (*postmasterPID, error) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pgembed: read postmaster.pid: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	line := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	pm := &postmasterPID{socketDir: line(4), listen: line(5)}
	pm.pid, _ = strconv.Atoi(line(0))
	pm.port, _ = strconv.Atoi(line(3))
	return pm, nil
}

// procState is what a pid found in a lock file turns out to be.
type procState int

const (
	procGone    procState = iota // no such process, or a zombie
	procOther                    // alive, but not a postgres serving this cluster
	procServing                  // a postgres whose data directory is this cluster
)

// inspect identifies pid through /proc without trusting the lock file that
// named it: pids are reused (pid_max may be as low as 32768), and removing
// the postmaster.pid of a live server would let two servers share one
// cluster, which corrupts it.
func inspect(pid int, dir string, o *owner) (procState, error) {
	if pid <= 0 {
		return procGone, nil
	}
	proc := fmt.Sprintf("/proc/%d", pid)
	stat, err := os.ReadFile(proc + "/stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return procGone, nil
	}
	if err != nil {
		return procGone, fmt.Errorf("pgembed: inspect pid %d: %w", pid, err)
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain spaces or parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
		if f := strings.Fields(string(stat[i+1:])); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
			// Exited, waiting for a parent that may never reap it (an
			// orphan whose new parent does not wait).
			return procGone, nil
		}
	}
	fi, err := os.Stat(proc)
	if err != nil {
		return procGone, nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != o.uid {
		// Our servers always run as the owner.
		return procOther, nil
	}
	exe, err := os.Readlink(proc + "/exe")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return procGone, nil
		}
		return procGone, fmt.Errorf("pgembed: inspect pid %d: %w", pid, err)
	}
	// After a package upgrade the running binary shows as "... (deleted)".
	if filepath.Base(strings.TrimSuffix(exe, " (deleted)")) != "postgres" {
		return procOther, nil
	}
	want := dir
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		want = r
	}
	// The postmaster changes into its data directory at start.
	if cwd, err := os.Readlink(proc + "/cwd"); err == nil && (cwd == want || cwd == dir) {
		return procServing, nil
	}
	if cmd, err := os.ReadFile(proc + "/cmdline"); err == nil {
		args := strings.Split(string(cmd), "\x00")
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-D" && (args[i+1] == dir || args[i+1] == want) {
				return procServing, nil
			}
		}
	}
	return procOther, nil
}

// Shutdown timings: fast shutdown (SIGINT) rolls back sessions and writes a
// checkpoint, which can take a while after heavy writes; immediate shutdown
// (SIGQUIT) skips the checkpoint and leaves crash recovery to the next start.
const (
	stopGrace = 30 * time.Second
	quitGrace = 10 * time.Second
	killGrace = 5 * time.Second
)

// stopProcess stops a postmaster: SIGINT, then SIGQUIT after stopGrace or
// as soon as ctx ends, then SIGKILL. gone waits up to a duration (or until
// its context ends) and reports whether the process has exited.
func stopProcess(ctx context.Context, pid int, gone func(context.Context, time.Duration) bool) error {
	steps := []struct {
		sig   syscall.Signal
		grace time.Duration
	}{{syscall.SIGINT, stopGrace}, {syscall.SIGQUIT, quitGrace}, {syscall.SIGKILL, killGrace}}
	for i, st := range steps {
		if err := syscall.Kill(pid, st.sig); err != nil {
			if errors.Is(err, syscall.ESRCH) {
				return nil
			}
			return fmt.Errorf("pgembed: signal pid %d: %w", pid, err)
		}
		// Only the polite step is cut short by ctx; the later ones are
		// already short and must run to leave no server behind.
		wctx := context.Background()
		if i == 0 {
			wctx = ctx
		}
		if gone(wctx, st.grace) {
			return nil
		}
	}
	return fmt.Errorf("pgembed: pid %d did not exit after SIGKILL", pid)
}

// pollGone returns a gone function for a process that is not our child:
// it polls /proc until the pid no longer serves dir.
func pollGone(pid int, dir string, o *owner) func(context.Context, time.Duration) bool {
	return func(ctx context.Context, d time.Duration) bool {
		deadline := time.Now().Add(d)
		for {
			st, err := inspect(pid, dir, o)
			if err == nil && st != procServing {
				return true
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return false
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// clearStale removes a lock file (postmaster.pid, or the socket's lock
// file) left by a server that no longer runs. A live server for dir is
// reported as procServing and its file left alone.
func clearStale(path, dir string, o *owner) (procState, int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return procGone, 0, nil
	}
	if err != nil {
		return procGone, 0, fmt.Errorf("pgembed: read %s: %w", path, err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	st, err := inspect(pid, dir, o)
	if err != nil {
		return procGone, pid, err
	}
	if st == procServing {
		return st, pid, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, pid, fmt.Errorf("pgembed: remove stale %s: %w", path, err)
	}
	return st, pid, nil
}
