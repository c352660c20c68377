package pgembed

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Environment switches that turn the test binary into a Parley stand-in
// for the crash-recovery test.
const (
	childDirEnv         = "PGEMBED_TEST_CHILD_DIR"
	childNoPdeathsigEnv = "PGEMBED_TEST_CHILD_NO_PDEATHSIG"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		runChild(dir)
		return
	}
	code := m.Run()
	if seedRoot != "" {
		os.RemoveAll(seedRoot)
	}
	os.Exit(code)
}

// runChild starts a server, writes a row, says so, and waits to be killed.
func runChild(dir string) {
	if os.Getenv(childNoPdeathsigEnv) != "" {
		parentDeathSignal = 0
	}
	ctx := context.Background()
	s, err := Start(ctx, Options{Dir: dir})
	if err == nil {
		err = execSQL(ctx, s.URL("postgres"), "CREATE TABLE crash (v text); INSERT INTO crash VALUES ('before the crash')")
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("ready %d\n", s.PID())
	time.Sleep(time.Hour)
}

func execSQL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func queryString(t *testing.T, url, sql string) string {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var s string
	require.NoError(t, conn.QueryRow(ctx, sql).Scan(&s))
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// reachableDir is a temporary directory the postgres user can enter:
// t.TempDir makes its directories 0700, which as root is exactly the
// fallback case, so this opens them up for the direct case.
func reachableDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{filepath.Dir(d), d} {
		require.NoError(t, os.Chmod(p, 0o755))
	}
	return d
}

// seed is a cluster initdb made once per test process, for tests about
// what happens after it: initdb is most of a cold start (tens of seconds
// on a loaded two-core machine), and TestStartQueryStop covers it.
var seed = sync.OnceValues(func() (string, error) {
	root, err := os.MkdirTemp("", "pgembed-seed-")
	if err != nil {
		return "", err
	}
	seedRoot = root
	if err := os.Chmod(root, 0o755); err != nil {
		return "", err
	}
	dir := filepath.Join(root, "pg")
	ctx := context.Background()
	s, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		return "", err
	}
	return dir, s.Stop(ctx)
})

// seedRoot holds the seed, removed when the tests end.
var seedRoot string

// seeded copies the seed cluster to dir (owner and modes kept: as root the
// files belong to the postgres user) and returns dir.
func seeded(t *testing.T, dir string) string {
	t.Helper()
	src, err := seed()
	require.NoError(t, err)
	out, err := exec.Command("cp", "-a", src, dir).CombinedOutput()
	require.NoError(t, err, "copy the seed cluster: %s", out)
	return dir
}

// start starts a server for the test and stops it when the test ends.
func start(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	s, err := Start(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Stop(context.Background())) })
	return s
}

func TestStartQueryStop(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(reachableDir(t), "data", "postgres")
	ctx := t.Context()

	began := time.Now()
	s, err := Start(ctx, Options{Dir: dir, Fsync: true, Logger: testLogger(t)})
	require.NoError(t, err)
	cold := time.Since(began)

	assert.Equal(t, dir, s.Dir(), "a reachable directory is used as is")
	assert.Equal(t, dir, s.SocketDir())
	assert.Equal(t, dir, s.Host())
	assert.Equal(t, 5432, s.Port())
	assert.Equal(t, dir+".log", s.LogFile())
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	if os.Geteuid() == 0 {
		assert.Equal(t, "postgres", ownerName(t, dir), "as root the server runs as the postgres user")
	}

	assert.Equal(t, "UTC", queryString(t, s.URL("postgres"), "SHOW timezone"))
	assert.Equal(t, "UTF8", queryString(t, s.URL("postgres"), "SHOW server_encoding"))
	assert.Equal(t, "on", queryString(t, s.URL("postgres"), "SHOW fsync"))
	assert.Equal(t, "", queryString(t, s.URL("postgres"), "SHOW listen_addresses"))
	assert.Equal(t, "200", queryString(t, s.URL("postgres"), "SHOW max_connections"))

	require.NoError(t, s.EnsureDatabase(ctx, "parley"))
	require.NoError(t, s.EnsureDatabase(ctx, "parley"), "a second call finds the database")
	assert.Equal(t, "parley", queryString(t, s.URL("parley"), "SELECT current_database()"))
	assert.Equal(t, User, queryString(t, s.URL("parley"), "SELECT current_user"))

	require.NoError(t, s.Stop(ctx))
	require.NoError(t, s.Stop(ctx), "Stop is idempotent")
	assert.NoFileExists(t, filepath.Join(dir, ".s.PGSQL.5432"))
	assert.NoFileExists(t, filepath.Join(dir, "postmaster.pid"))

	began = time.Now()
	s = start(t, Options{Dir: dir, Fsync: true})
	warm := time.Since(began)
	assert.Equal(t, "1", queryString(t, s.URL("postgres"), "SELECT '1'"))
	t.Logf("cold start (initdb + start): %s; warm start: %s", cold.Round(time.Millisecond), warm.Round(time.Millisecond))
}

func ownerName(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	uid := fi.Sys().(*syscall.Stat_t).Uid
	out, err := exec.Command("id", "-nu", strconv.Itoa(int(uid))).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

func TestRestartKeepsData(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts PostgreSQL: skipped with -short")
	}
	t.Parallel()
	dir := filepath.Join(reachableDir(t), "pg")
	ctx := t.Context()
	s, err := Start(ctx, Options{Dir: dir, Logger: testLogger(t)})
	require.NoError(t, err)
	require.NoError(t, execSQL(ctx, s.URL("postgres"), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')"))
	require.NoError(t, s.Stop(ctx))

	s = start(t, Options{Dir: dir})
	assert.Equal(t, "still here", queryString(t, s.URL("postgres"), "SELECT v FROM kept"))
}

func TestTCP(t *testing.T) {
	t.Parallel()
	s := start(t, Options{Dir: seeded(t, filepath.Join(reachableDir(t), "pg")), Port: -1, MaxConnections: 50})
	assert.Equal(t, "127.0.0.1", s.Host())
	assert.NotEqual(t, 5432, s.Port())
	assert.Equal(t, fmt.Sprintf("postgres://parley@127.0.0.1:%d/postgres?sslmode=disable", s.Port()), s.URL("postgres"))
	assert.Equal(t, "127.0.0.1", queryString(t, s.URL("postgres"), "SELECT host(inet_server_addr())"))
	assert.Equal(t, "50", queryString(t, s.URL("postgres"), "SHOW max_connections"))
	assert.Equal(t, "off", queryString(t, s.URL("postgres"), "SHOW fsync"))
	assert.Equal(t, "off", queryString(t, s.URL("postgres"), "SHOW synchronous_commit"))
	assert.Equal(t, "off", queryString(t, s.URL("postgres"), "SHOW full_page_writes"))
	assert.FileExists(t, filepath.Join(s.SocketDir(), fmt.Sprintf(".s.PGSQL.%d", s.Port())), "the socket stays open")
}

func TestUnreachableDirFallsBack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user, so only root needs the fallback")
	}
	t.Parallel()
	// t.TempDir's parents are 0700 and root's: the postgres user cannot enter.
	requested := filepath.Join(t.TempDir(), "pg")
	ctx := t.Context()
	s, err := Start(ctx, Options{Dir: requested, Logger: testLogger(t)})
	require.NoError(t, err)
	home := filepath.Dir(s.Dir())
	t.Cleanup(func() { os.RemoveAll(home) })

	assert.NotEqual(t, requested, s.Dir())
	assert.True(t, strings.HasPrefix(s.Dir(), fallbackRoot+"/"), s.Dir())
	assert.NoDirExists(t, requested, "nothing is made where the server cannot go")
	note, err := os.ReadFile(filepath.Join(home, "REQUESTED_DIR"))
	require.NoError(t, err)
	assert.Equal(t, requested+"\n", string(note))
	require.NoError(t, execSQL(ctx, s.URL("postgres"), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('in the fallback')"))
	first := s.Dir()
	require.NoError(t, s.Stop(ctx))

	s = start(t, Options{Dir: requested})
	assert.Equal(t, first, s.Dir(), "the same request finds the same cluster")
	assert.Equal(t, "in the fallback", queryString(t, s.URL("postgres"), "SELECT v FROM kept"))
}

func TestLongPathMovesSocket(t *testing.T) {
	t.Parallel()
	dir := seeded(t, filepath.Join(reachableDir(t), strings.Repeat("d", 100)))
	s := start(t, Options{Dir: dir})
	t.Cleanup(func() { os.RemoveAll(s.SocketDir()) })
	assert.Equal(t, dir, s.Dir())
	assert.True(t, strings.HasPrefix(s.SocketDir(), "/tmp/parley-pg-"), s.SocketDir())
	fi, err := os.Stat(s.SocketDir())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	assert.Equal(t, "1", queryString(t, s.URL("postgres"), "SELECT '1'"))
}

func TestSecondStartIsRefused(t *testing.T) {
	t.Parallel()
	dir := seeded(t, filepath.Join(reachableDir(t), "pg"))
	s := start(t, Options{Dir: dir})

	_, err := Start(t.Context(), Options{Dir: dir, Logger: testLogger(t)})
	require.ErrorIs(t, err, ErrInUse)
	assert.ErrorContains(t, err, dir)
	assert.ErrorContains(t, err, fmt.Sprintf("process %d", os.Getpid()))
	assert.Equal(t, "1", queryString(t, s.URL("postgres"), "SELECT '1'"), "the first server is untouched")
}

func TestStalePostmasterPID(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts PostgreSQL: skipped with -short")
	}
	t.Parallel()
	dir := filepath.Join(reachableDir(t), "pg")
	ctx := t.Context()
	s, err := Start(ctx, Options{Dir: dir, Logger: testLogger(t)})
	require.NoError(t, err)
	pidFile, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	require.NoError(t, err)
	sockLock, err := os.ReadFile(filepath.Join(dir, ".s.PGSQL.5432.lock"))
	require.NoError(t, err)
	require.NoError(t, s.Stop(ctx))

	dead := exec.Command("true")
	require.NoError(t, dead.Run())

	for _, tc := range []struct {
		name string
		pid  int
	}{
		{"dead pid", dead.Process.Pid},
		{"pid of an unrelated process", os.Getpid()},
	} {
		// As a crash would leave them, but naming another pid.
		for name, content := range map[string][]byte{"postmaster.pid": pidFile, ".s.PGSQL.5432.lock": sockLock} {
			_, rest, _ := strings.Cut(string(content), "\n")
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("%d\n%s", tc.pid, rest)), 0o600), tc.name)
		}
		s, err := Start(ctx, Options{Dir: dir, Logger: testLogger(t)})
		require.NoError(t, err, tc.name)
		assert.Equal(t, "1", queryString(t, s.URL("postgres"), "SELECT '1'"), tc.name)
		require.NoError(t, s.Stop(ctx), tc.name)
	}
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts PostgreSQL: skipped with -short")
	}
	t.Parallel()
	for _, tc := range []struct {
		name      string
		pdeathsig bool
	}{
		// The worst case: the server outlives its killed parent.
		{"orphaned server", false},
		// The usual case: the kernel tells the server its parent died.
		{"parent death signal", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(reachableDir(t), "pg")
			child := exec.Command(os.Args[0], "-test.run=^$")
			child.Env = append(os.Environ(), childDirEnv+"="+dir)
			if !tc.pdeathsig {
				child.Env = append(child.Env, childNoPdeathsigEnv+"=1")
			}
			child.Stderr = t.Output()
			out, err := child.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, child.Start())
			line, err := bufio.NewReader(out).ReadString('\n')
			require.NoError(t, err)
			var oldPID int
			_, err = fmt.Sscanf(line, "ready %d", &oldPID)
			require.NoError(t, err, line)

			require.NoError(t, child.Process.Kill())
			_ = child.Wait()
			if tc.pdeathsig {
				require.Eventually(t, func() bool {
					st, err := inspect(oldPID, dir, mustOwner(t))
					return err == nil && st == procGone
				}, 20*time.Second, 20*time.Millisecond, "the server shuts itself down when its parent dies")
			} else {
				st, err := inspect(oldPID, dir, mustOwner(t))
				require.NoError(t, err)
				require.Equal(t, procServing, st, "the orphan still runs")
			}

			s := start(t, Options{Dir: dir})
			assert.NotEqual(t, oldPID, s.PID())
			assert.Equal(t, "before the crash", queryString(t, s.URL("postgres"), "SELECT v FROM crash"))
			st, err := inspect(oldPID, dir, mustOwner(t))
			require.NoError(t, err)
			assert.NotEqual(t, procServing, st, "the old server is gone")
		})
	}
}

func mustOwner(t *testing.T) *owner {
	t.Helper()
	o, err := serverOwner()
	require.NoError(t, err)
	return o
}

func TestDetached(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts PostgreSQL: skipped with -short")
	}
	t.Parallel()
	dir := filepath.Join(reachableDir(t), "pg")
	ctx := t.Context()
	opts := Options{Dir: dir, Detached: true, Port: -1, Logger: testLogger(t)}
	t.Cleanup(func() { assert.NoError(t, StopDetached(context.Background(), opts)) })

	s1, err := Start(ctx, opts)
	require.NoError(t, err)
	require.NoError(t, execSQL(ctx, s1.URL("postgres"), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('detached')"))

	s2, err := Start(ctx, opts)
	require.NoError(t, err)
	assert.Equal(t, s1.PID(), s2.PID(), "a running detached server is reused")
	assert.Equal(t, s1.URL("x"), s2.URL("x"))
	assert.Equal(t, "127.0.0.1", s2.Host())

	require.NoError(t, StopDetached(ctx, opts))
	st, err := inspect(s1.PID(), dir, mustOwner(t))
	require.NoError(t, err)
	assert.NotEqual(t, procServing, st)
	require.NoError(t, StopDetached(ctx, opts), "nothing left to stop")

	// A detached server stands in for one orphaned by a crash: a
	// non-detached Start stops it and serves the same cluster itself.
	s3, err := Start(ctx, opts)
	require.NoError(t, err)
	s4 := start(t, Options{Dir: dir})
	assert.NotEqual(t, s3.PID(), s4.PID())
	assert.Equal(t, dir, s4.Host(), "socket only")
	assert.Equal(t, "detached", queryString(t, s4.URL("postgres"), "SELECT v FROM kept"))
}

func TestVersionMismatch(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts PostgreSQL: skipped with -short")
	}
	t.Parallel()
	dir := filepath.Join(reachableDir(t), "pg")
	ctx := t.Context()
	s, err := Start(ctx, Options{Dir: dir, Logger: testLogger(t)})
	require.NoError(t, err)
	require.NoError(t, execSQL(ctx, s.URL("postgres"), "CREATE TABLE old (v text)"))
	require.NoError(t, s.Stop(ctx))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte("9.6\n"), 0o600))

	_, err = Start(ctx, Options{Dir: dir, Logger: testLogger(t)})
	require.ErrorContains(t, err, "made by PostgreSQL 9.6")
	assert.ErrorContains(t, err, "pg_upgrade")

	// A detached (test) cluster holds nothing worth keeping: it is re-made.
	s, err = Start(ctx, Options{Dir: dir, Detached: true, Logger: testLogger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Stop(context.Background())) })
	assert.Equal(t, "0", queryString(t, s.URL("postgres"), "SELECT count(*)::text FROM pg_class WHERE relname = 'old'"))
}

func TestNoBinaries(t *testing.T) {
	t.Parallel()
	_, err := Start(t.Context(), Options{Dir: filepath.Join(t.TempDir(), "pg"), BinDir: t.TempDir()})
	require.ErrorIs(t, err, ErrNoBinaries)
	assert.ErrorContains(t, err, "install PostgreSQL (apt-get install postgresql) or set DATABASE_URL to an existing server")

	empty := t.TempDir()
	_, err = findBinaries("", empty, filepath.Join(empty, "*", "bin"))
	require.ErrorIs(t, err, ErrNoBinaries)
}

func TestFindBinariesPicksHighestVersion(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "10", "13"} {
		bin := filepath.Join(root, v, "bin")
		require.NoError(t, os.MkdirAll(bin, 0o755))
		script := fmt.Sprintf("#!/bin/sh\necho 'postgres (PostgreSQL) %s.2'\n", v)
		require.NoError(t, os.WriteFile(filepath.Join(bin, "postgres"), []byte(script), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(bin, "initdb"), []byte(script), 0o755))
	}
	// 15 has no initdb: a server package without its tools is skipped.
	require.NoError(t, os.Remove(filepath.Join(root, "15", "bin", "initdb")))

	b, err := findBinaries("", t.TempDir(), filepath.Join(root, "*", "bin"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "13", "bin", "postgres"), b.postgres)
	assert.Equal(t, "13", b.major)

	// PATH wins over the version directories.
	b, err = findBinaries("", filepath.Join(root, "9.6", "bin"), filepath.Join(root, "*", "bin"))
	require.NoError(t, err)
	assert.Equal(t, "9.6", b.major)
}

func TestServerDeathIsNoticed(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts PostgreSQL: skipped with -short")
	}
	t.Parallel()
	dir := filepath.Join(reachableDir(t), "pg")
	ctx := t.Context()
	// Durable, as in production: with synchronous_commit off a commit may
	// still sit in WAL buffers when the server dies.
	s, err := Start(ctx, Options{Dir: dir, Fsync: true, Logger: testLogger(t)})
	require.NoError(t, err)
	require.NoError(t, execSQL(ctx, s.URL("postgres"), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')"))

	require.NoError(t, syscall.Kill(s.PID(), syscall.SIGKILL))
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done was not closed after the server died")
	}
	require.NoError(t, s.Stop(ctx), "stopping a dead server is not an error")

	// The next start removes the dead server's postmaster.pid and recovers.
	s = start(t, Options{Dir: dir, Fsync: true})
	assert.Equal(t, "survives", queryString(t, s.URL("postgres"), "SELECT v FROM kept"))
}
