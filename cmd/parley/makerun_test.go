package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMakeRunStopsEverything runs the README's `make run` as a user does and
// stops it the two ways a user does: SIGTERM to the make process (a script or
// `kill <pid>`), then Ctrl-C (SIGINT to the terminal's process group). Each
// time parley and its private PostgreSQL must be gone when make returns, and
// the next `make run` on the same data directory must start.
func TestMakeRunStopsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs parley through make: skipped with -short")
	}
	t.Parallel()
	makePath, err := exec.LookPath("make")
	require.NoError(t, err, "make is needed (the README's two commands use it)")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	dir := dataDir(t)

	// 1. SIGTERM to make itself.
	first := startMakeRun(t, makePath, root, dir)
	first.waitHealthy(t)
	require.Contains(t, first.output(), "==> Building bin/parley", "make run says what it is doing")
	require.Contains(t, first.output(), "==> Starting Parley")
	pgPid := postmasterPid(t, dir)
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGTERM))
	first.waitExit(t)
	first.requireAllGone(t, dir, pgPid)

	// 2. The next start is not refused; Ctrl-C stops it.
	second := startMakeRun(t, makePath, root, dir)
	second.waitHealthy(t)
	pgPid = postmasterPid(t, dir)
	require.NoError(t, syscall.Kill(-second.cmd.Process.Pid, syscall.SIGINT))
	second.waitExit(t)
	second.requireAllGone(t, dir, pgPid)
}

type makeRun struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
	listen string
}

func (m *makeRun) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.Write(p)
}

func (m *makeRun) output() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.String()
}

// startMakeRun starts `make run` in its own process group (as a shell puts a
// foreground job), so the test can play the terminal's Ctrl-C and clean up
// whatever a failing test leaves.
func startMakeRun(t *testing.T, makePath, root, dir string) *makeRun {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m := &makeRun{done: make(chan struct{}), listen: ln.Addr().String()}
	ln.Close()
	m.cmd = exec.Command(makePath, "--no-print-directory", "run")
	m.cmd.Dir = root
	m.cmd.Env = append(os.Environ(), "PARLEY_DATA_DIR="+dir, "PARLEY_LISTEN="+m.listen, "DATABASE_URL=", "PARLEY_TEST_MAIN=")
	m.cmd.Stdout, m.cmd.Stderr = m, m
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, m.cmd.Start())
	go func() {
		m.cmd.Wait()
		close(m.done)
	}()
	t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-m.done:
			case <-time.After(30 * time.Second):
				syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			t.Logf("make run output:\n%s", m.output())
		}
	})
	return m
}

// waitHealthy waits for /healthz; the first build of bin/parley may take a
// few minutes on a cold build cache.
func (m *makeRun) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			t.Fatalf("make run ended before parley served:\n%s", m.output())
		default:
		}
		res, err := http.Get("http://" + m.listen + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("parley never answered /healthz:\n%s", m.output())
}

func (m *makeRun) waitExit(t *testing.T) {
	t.Helper()
	select {
	case <-m.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("make run did not stop:\n%s", m.output())
	}
}

// requireAllGone checks, once make has returned, that nothing of that run
// is left: no process mentions the data directory (parley has it in its
// environment, postgres in its command line), PostgreSQL's pid file is gone
// and its pid is dead, and the HTTP port is closed.
func (m *makeRun) requireAllGone(t *testing.T, dir string, pgPid int) {
	t.Helper()
	require.Empty(t, processesUsing(dir), "processes left running with the data directory")
	_, err := os.Stat(filepath.Join(dir, "postgres", "postmaster.pid"))
	require.True(t, os.IsNotExist(err), "PostgreSQL stopped cleanly: no postmaster.pid")
	require.True(t, errors.Is(syscall.Kill(pgPid, 0), syscall.ESRCH), "postgres (pid %d) is gone", pgPid)
	conn, err := net.DialTimeout("tcp", m.listen, time.Second)
	if err == nil {
		conn.Close()
	}
	require.Error(t, err, "nothing listens on %s any more", m.listen)
	require.Contains(t, m.output(), "private PostgreSQL stopped")
}

// postmasterPid reads the postmaster's pid from its pid file.
func postmasterPid(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "postgres", "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	require.NoError(t, err)
	return pid
}

// processesUsing lists the live processes whose command line or
// environment contains dir.
func processesUsing(dir string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), f))
			if err == nil && bytes.Contains(b, []byte(dir)) {
				cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
				found = append(found, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
				break
			}
		}
	}
	return found
}
