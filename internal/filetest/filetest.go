// Package filetest starts, for tests, the real servers files need: an
// S3-compatible server (versitygw, installed with go install by make
// deps-test) and ClamAV's clamd (Debian's clamav-daemon) with a local
// signature database that matches the EICAR test string, so no test needs
// the internet (freshclam). A missing server fails the test with the
// command that installs it; no test skips.
package filetest

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleydesk/parley/storage"
)

// EICAR is the antivirus test string every scanner reports as a test
// virus; the signature database StartClamd writes names it
// "Parley-EICAR-Test".
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// EICARSignature is what clamd reports for EICAR with StartClamd's database.
const EICARSignature = "Parley-EICAR-Test.UNOFFICIAL"

// VersityGW is the pinned versitygw release make deps-test installs.
const VersityGW = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// findBinary looks for name on PATH, then in Go's install directories.
func findBinary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	dirs = append(dirs, "/usr/sbin", "/usr/local/sbin")
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls ready until it succeeds or 30 s pass.
func waitFor(t testing.TB, what string, ready func() error, logs func() string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start: %v\n%s", what, err, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartS3 starts versitygw (POSIX backend) in a temporary directory and
// returns a config for a fresh bucket on it; it stops with the test.
func StartS3(t testing.TB) storage.S3Config {
	t.Helper()
	bin := findBinary("versitygw")
	if bin == "" {
		t.Fatalf("versitygw is missing (the S3-compatible server of the file tests): run make deps-test, or: go install %s", VersityGW)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	logs := func() string { b, _ := os.ReadFile(logf.Name()); return string(b) }
	// The free port is free when asked, not when versitygw binds it: a
	// process of a parallel test may take it first, and then versitygw
	// exits at once while the dial reaches that other listener. So the
	// server must still be running once its port answers, or it starts
	// again on another port.
	var addr string
	for attempt := 1; ; attempt++ {
		addr = freePort(t)
		cmd := exec.Command(bin, "--port", addr, "-q", "posix", data)
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY=parleytest", "ROOT_SECRET_KEY=parleytestsecret")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatalf("start versitygw: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
		})
		gone := func() bool {
			select {
			case <-exited:
				return true
			default:
				return false
			}
		}
		waitFor(t, "versitygw", func() error {
			if gone() {
				return nil // answered below
			}
			// Its own answer, not just an open port: the port may be
			// another process's (a dial alone once passed, and the tests
			// then met a closed port).
			return answersAsVersityGW(addr)
		}, logs)
		time.Sleep(100 * time.Millisecond)
		if !gone() {
			break
		}
		if attempt == 3 {
			t.Fatalf("versitygw exited at start three times:\n%s", logs())
		}
	}
	return storage.S3Config{Endpoint: "http://" + addr, Bucket: "parley-test", AccessKey: "parleytest", SecretKey: "parleytestsecret", Region: "us-east-1"}
}

// StartClamd starts clamd in the foreground on a private socket, with a
// signature database holding only a hash of EICAR, and a stream limit
// large enough for the tests' 50 MB uploads; it stops with the test.
func StartClamd(t testing.TB) *storage.Clamd {
	t.Helper()
	bin := findBinary("clamd")
	if bin == "" {
		t.Fatal("clamd is missing (the virus scanner of the file tests): run make deps-test, or: apt-get install -y clamav-daemon")
	}
	// Short path: Unix socket paths are limited to 107 bytes.
	dir, err := os.MkdirTemp("", "clamd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "db")
	if err := os.MkdirAll(db, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(EICAR))
	sig := fmt.Sprintf("%s:%d:Parley-EICAR-Test\n", hex.EncodeToString(sum[:]), len(EICAR))
	if err := os.WriteFile(filepath.Join(db, "parley.hdb"), []byte(sig), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "clamd.sock")
	conf := filepath.Join(dir, "clamd.conf")
	cfg := strings.Join([]string{
		"LocalSocket " + sock,
		"DatabaseDirectory " + db,
		"TemporaryDirectory " + dir,
		"Foreground yes",
		"StreamMaxLength 200M",
		"MaxScanSize 400M",
		"MaxFileSize 200M",
		"LogFile " + filepath.Join(dir, "clamd.log"),
	}, "\n") + "\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	out, err := os.Create(filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start clamd: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		out.Close()
	})
	c := &storage.Clamd{Network: "unix", Address: sock, Timeout: time.Minute}
	logs := func() string { b, _ := os.ReadFile(out.Name()); return string(b) }
	waitFor(t, "clamd", func() error { return c.Ping(t.Context()) }, logs)
	return c
}

// answersAsVersityGW asks addr for its root, as S3 clients do first, and
// requires versitygw's answer (its Server header).
func answersAsVersityGW(addr string) error {
	c := http.Client{Timeout: time.Second}
	res, err := c.Get("http://" + addr + "/")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body) //nolint:errcheck // only the header matters
	if got := res.Header.Get("Server"); got != "VERSITYGW" {
		return fmt.Errorf("%s answers as %q, not versitygw", addr, got)
	}
	return nil
}
