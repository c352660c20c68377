package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The test binary doubles as the parley binary: run with PARLEY_TEST_MAIN=1
// it is main(), so these tests drive real processes without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("PARLEY_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type proc struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	done   chan error
	listen string
}

func parleyCmd(t *testing.T, dataDir, listen string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PARLEY_TEST_MAIN=1", "PARLEY_DATA_DIR="+dataDir, "PARLEY_LISTEN="+listen, "DATABASE_URL=")
	return cmd
}

func startParley(t *testing.T, dataDir string) *proc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	listen := ln.Addr().String()
	ln.Close()
	p := &proc{out: &bytes.Buffer{}, done: make(chan error, 1), listen: listen}
	p.cmd = parleyCmd(t, dataDir, listen)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
				p.cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("parley output:\n%s", p.out.String())
		}
	})
	return p
}

func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("parley exited before it was ready: %v\n%s", err, p.out.String())
		default:
		}
		res, err := http.Get("http://" + p.listen + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("parley not ready in time\n%s", p.out.String())
}

func (p *proc) status(t *testing.T, path string) int {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get("http://" + p.listen + path)
	require.NoError(t, err)
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// dataDir returns a directory the postgres OS user can enter (t.TempDir's
// parents are private to root), so the cluster lives inside it.
func dataDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "parley-main-*")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "data")
}

func TestServeRestartKill9AndShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts, kills and restarts parley processes: skipped with -short")
	}
	t.Parallel()
	dir := dataDir(t)

	// A scripted install creates the first admin from the command line.
	create := parleyCmd(t, dir, "127.0.0.1:0", "user", "create", "--admin", "--email", "ops@example.com", "--name", "Ops")
	create.Stdin = strings.NewReader("correct horse\n")
	out, err := create.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "created admin Ops <ops@example.com>")

	p := startParley(t, dir)
	p.waitReady(t)
	require.Equal(t, http.StatusNotFound, p.status(t, "/setup"), "the admin made on the command line is kept")

	// A second Parley on the same data directory is refused with a clear message.
	second := parleyCmd(t, dir, "127.0.0.1:0")
	out, err = second.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "in use")

	// kill -9: the next start recovers (orphaned server, stale pid file).
	require.NoError(t, p.cmd.Process.Kill())
	<-p.done
	p2 := startParley(t, dir)
	p2.waitReady(t)
	require.Equal(t, http.StatusNotFound, p2.status(t, "/setup"), "data survives kill -9")
	require.Equal(t, http.StatusOK, p2.status(t, "/login"))

	// SIGTERM shuts down cleanly and stops the private PostgreSQL.
	require.NoError(t, p2.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p2.done:
		require.NoError(t, err, p2.out.String())
	case <-time.After(30 * time.Second):
		t.Fatal("parley did not stop on SIGTERM")
	}
	require.Contains(t, p2.out.String(), "private PostgreSQL stopped")
	_, err = os.Stat(filepath.Join(dir, "postgres", "postmaster.pid"))
	require.True(t, os.IsNotExist(err), "postgres is stopped: no postmaster.pid")

	// The password can be reset from the command line.
	reset := parleyCmd(t, dir, "127.0.0.1:0", "user", "set-password", "--email", "ops@example.com")
	reset.Stdin = strings.NewReader("another horse\n")
	out, err = reset.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "password set for ops@example.com")
}

func TestBadConfigurationStopsStartup(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "PARLEY_TEST_MAIN=1", "PARLEY_LISTEN=nonsense")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "PARLEY_LISTEN")
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"frobnicate"}, strings.NewReader(""), io.Discard)
	require.ErrorContains(t, err, `unknown command "frobnicate"`)
	var buf bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"help"}, strings.NewReader(""), &buf))
	require.Contains(t, buf.String(), "parley user create")
}
