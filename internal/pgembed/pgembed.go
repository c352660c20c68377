// Package pgembed runs Parley's private PostgreSQL server.
//
// With no DATABASE_URL, Parley must still work, so it starts a PostgreSQL
// server of its own from the binaries installed on the machine (the
// postgresql package) rather than shipping or downloading one. This is a
// production path: the cluster persists across restarts, a second Parley on
// the same cluster is refused, and a server orphaned by a Parley killed with
// SIGKILL is found and stopped on the next start.
//
// Files, for a cluster directory D (Options.Dir, or its fallback below):
//
//   - D is PGDATA: 0700, owned by the user the server runs as;
//   - D.lock, beside D, is the lock file (it names the holding pid);
//   - D.log, beside D, receives the output of initdb and of the server
//     (rotated to D.log.1 at start once it passes 10 MB);
//   - the Unix socket .s.PGSQL.<port> lives in D, or in
//     /tmp/parley-pg-<hash of D> when that path would pass the kernel's
//     107-byte limit for socket paths.
//
// PostgreSQL refuses to run as root, so as root the server runs as the
// "postgres" OS user. When that user cannot enter every parent of the
// requested directory (a checkout under /root, a 0700 temporary directory),
// the cluster is kept in /var/lib/parley/<hash of the requested path>/postgres
// instead, the same one on every start; Server.Dir reports where.
package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// User is the superuser initdb creates. Parley connects as this role; it
// has no password because only local connections are accepted (see Start).
const User = "parley"

const (
	defaultMaxConnections = 200
	// readyTimeout bounds the wait for a starting server, which includes
	// crash recovery after an unclean stop.
	readyTimeout = 30 * time.Second
	// maxSocketPath is sizeof(sockaddr_un.sun_path) minus its NUL.
	maxSocketPath = 107
	// defaultSocketPort names the socket when the server listens on no TCP
	// port; it is the name clients expect by default.
	defaultSocketPort = 5432
	logRotateSize     = 10 << 20
)

// parentDeathSignal is what the kernel sends the server when the process
// that started it dies, so that a Parley killed with SIGKILL does not leave
// its server running. Tests switch it off to leave a true orphan behind.
var parentDeathSignal = syscall.SIGINT

// Options configures Start. The zero value (apart from Dir) is what Parley
// uses in production: durable, socket only, stopped with Parley.
type Options struct {
	// Dir is the cluster directory (PGDATA), created if missing. As root it
	// may be replaced by a fallback the postgres user can reach; see the
	// package documentation and Server.Dir.
	Dir string
	// Port 0 listens on the Unix socket only (listen_addresses=''), named
	// for port 5432. Port > 0 also listens on 127.0.0.1:Port and -1 picks a
	// free TCP port. Connections are trusted without a password, so any
	// local user can reach a TCP port: use TCP for tests only.
	Port int
	// Fsync false trades durability for speed, for tests: fsync,
	// synchronous_commit and full_page_writes are turned off and initdb does
	// not sync. A crash of the machine can then lose or corrupt data.
	Fsync bool
	// MaxConnections is max_connections; 0 means 200, enough for Parley's
	// pool, River and a realtime listener per instance.
	MaxConnections int
	// Settings are more server settings, "name=value" each, passed as -c
	// after Parley's own (a benchmark's larger shared_buffers, say).
	Settings []string
	// Detached lets the server outlive this process, for a test harness
	// shared by many test processes: no lifetime lock, its own session
	// (Setsid), and no parent-death signal. Start then reuses a server
	// already running for Dir (which keeps the port and settings it was
	// started with), and wipes and re-initialises a cluster made by another
	// PostgreSQL major version instead of failing.
	Detached bool
	// BinDir, when set, is the only place searched for postgres and initdb;
	// otherwise PATH is searched, then the highest version in
	// /usr/lib/postgresql/*/bin. It exists for packagers with unusual
	// layouts.
	BinDir string
	// Logger receives what Start and Stop decide (fallback locations, left
	// over servers); nil means slog.Default(). The server's own output goes
	// to the log file, not here.
	Logger *slog.Logger
}

// Server is a running private PostgreSQL. Its methods are safe for
// concurrent use.
type Server struct {
	dir       string
	socketDir string
	logPath   string
	port      int
	tcp       bool
	pid       int
	owner     *owner
	log       *slog.Logger

	// done is closed when the server we started exits; nil when we attached
	// to a server started by another process.
	done chan struct{}
	lock *os.File // lifetime lock; nil for detached servers

	stopOnce sync.Once
	stopErr  error
}

// Start initialises the cluster if needed and starts its server, returning
// once it accepts connections. See Options for the modes; the package
// documentation says where files go.
//
// Unless Detached, Start holds a lock on the cluster until Stop and fails
// with ErrInUse while another process holds it. A server left running by a
// crashed Parley (found through postmaster.pid) is stopped and a fresh one
// started; a stale postmaster.pid is removed. A cluster made by another
// PostgreSQL major version is refused with a message saying how to upgrade.
func Start(ctx context.Context, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Dir == "" {
		return nil, errors.New("pgembed: Options.Dir is empty")
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = defaultMaxConnections
	}
	bins, err := findBinaries(opts.BinDir, os.Getenv("PATH"), systemBinGlob)
	if err != nil {
		return nil, err
	}
	o, err := serverOwner()
	if err != nil {
		return nil, err
	}
	pl, err := place(opts.Dir, o)
	if err != nil {
		return nil, err
	}
	if err := pl.prepare(o, log); err != nil {
		return nil, err
	}
	mode := lockLifetime
	if opts.Detached {
		mode = lockStartup
	}
	lock, err := lockCluster(ctx, pl.dir, mode)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: pl.dir, logPath: pl.dir + ".log", owner: o, log: log, lock: lock}
	if err := s.boot(ctx, opts, bins); err != nil {
		lock.Close()
		return nil, err
	}
	if opts.Detached {
		// The start-up is over; the server is on its own now.
		lock.Close()
		s.lock = nil
	}
	return s, nil
}

// boot brings the cluster from whatever state it was left in to a running
// server, holding the cluster lock.
func (s *Server) boot(ctx context.Context, opts Options, bins binaries) error {
	have, err := clusterVersion(s.dir)
	if err != nil {
		return err
	}
	mismatch := have != "" && have != bins.major

	pidFile := filepath.Join(s.dir, "postmaster.pid")
	for {
		st, pid, err := clearStale(pidFile, s.dir, s.owner)
		if err != nil {
			return err
		}
		if st == procOther && pid > 0 {
			s.log.Info("pgembed: removed a stale postmaster.pid naming an unrelated process", "dir", s.dir, "pid", pid)
		} else if st == procGone && pid > 0 {
			s.log.Info("pgembed: removed a stale postmaster.pid", "dir", s.dir, "pid", pid)
		}
		if st != procServing {
			break
		}
		if opts.Detached && !mismatch {
			ok, err := s.attach(ctx, pid)
			if err != nil || ok {
				return err
			}
			// It exited while we waited, or is still writing
			// postmaster.pid: look again.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		s.log.Warn("pgembed: a server left over from an earlier run still serves the cluster; stopping it", "dir", s.dir, "pid", pid)
		if err := stopProcess(ctx, pid, pollGone(pid, s.dir, s.owner)); err != nil {
			return err
		}
	}

	if mismatch {
		if !opts.Detached {
			return fmt.Errorf("pgembed: the cluster in %s was made by PostgreSQL %s, but the binaries found are PostgreSQL %s (%s): "+
				"install PostgreSQL %s alongside and upgrade the cluster with pg_upgrade, or dump it with the old version and restore it into a new directory",
				s.dir, have, bins.major, bins.postgres, bins.major)
		}
		s.log.Warn("pgembed: wiping a detached cluster made by another PostgreSQL version", "dir", s.dir, "cluster_version", have, "binaries_version", bins.major)
		if err := emptyDir(s.dir); err != nil {
			return fmt.Errorf("pgembed: wipe %s: %w", s.dir, err)
		}
		have = ""
	}

	logf, err := openLog(s.logPath)
	if err != nil {
		return err
	}
	defer logf.Close()

	if have == "" {
		if err := s.initdb(ctx, bins, opts.Fsync, logf); err != nil {
			return err
		}
	}
	return s.launch(ctx, opts, bins, logf)
}

// attach adopts a detached server already running for the cluster. It
// reports false when that server exits before accepting connections.
func (s *Server) attach(ctx context.Context, pid int) (bool, error) {
	pm, err := readPostmasterPID(s.dir)
	if err != nil {
		return false, err
	}
	if pm == nil || pm.pid != pid || pm.port == 0 || pm.socketDir == "" {
		return false, nil
	}
	s.pid, s.port, s.socketDir = pid, pm.port, pm.socketDir
	s.tcp = pm.listen != ""
	gone := func() bool {
		st, err := inspect(pid, s.dir, s.owner)
		return err == nil && st != procServing
	}
	if err := s.waitReady(ctx, gone); err != nil {
		if gone() {
			return false, nil
		}
		return false, err
	}
	s.log.Debug("pgembed: reusing a running detached server", "dir", s.dir, "pid", pid, "port", s.port)
	return true, nil
}

func clusterVersion(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "PG_VERSION"))
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("pgembed: read PG_VERSION: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("pgembed: cluster directory: %w", err)
	}
	if len(entries) > 0 {
		return "", fmt.Errorf("pgembed: %s is not empty and holds no PostgreSQL cluster (no PG_VERSION); empty it or choose another directory", dir)
	}
	return "", nil
}

// childEnv is the environment of initdb and postgres: only what they need,
// so that the caller's PG* variables cannot redirect them.
func childEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "TZ=UTC", "LANG=C"}
}

// initdb creates the cluster in a sibling directory and renames it into
// place, so that an initdb interrupted by a crash never leaves a half-made
// cluster where the next start would take it for a real one.
func (s *Server) initdb(ctx context.Context, bins binaries, fsync bool, logf *os.File) error {
	start := time.Now()
	tmp := s.dir + ".initdb"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("pgembed: remove %s: %w", tmp, err)
	}
	defer os.RemoveAll(tmp)
	target := tmp
	if err := os.Mkdir(tmp, 0o700); err != nil || s.owner.chown(tmp) != nil {
		target = s.dir
	}
	if err := s.runInitdb(ctx, bins, fsync, target, logf); err != nil {
		return err
	}
	if target == tmp {
		// rename(2) onto an empty directory replaces it (os.Rename refuses
		// to); it fails when Dir is a mount point, and then initdb runs in
		// place.
		if err := syscall.Rename(tmp, s.dir); err != nil {
			s.log.Debug("pgembed: cannot rename the new cluster into place; running initdb in place", "err", err)
			if err := s.runInitdb(ctx, bins, fsync, s.dir, logf); err != nil {
				return err
			}
		}
	}
	s.log.Info("pgembed: created a PostgreSQL cluster", "dir", s.dir, "version", bins.major, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (s *Server) runInitdb(ctx context.Context, bins binaries, fsync bool, target string, logf *os.File) error {
	// C.UTF-8 sorts and classifies text as UTF-8 without depending on
	// locales installed on the machine; plain C is the fallback where even
	// that is missing.
	for _, locale := range []string{"C.UTF-8", "C"} {
		args := []string{"-D", target, "-U", User, "--auth-local=trust", "--auth-host=trust",
			"--encoding=UTF8", "--locale=" + locale, "--no-instructions"}
		if !fsync {
			args = append(args, "--no-sync")
		}
		var out strings.Builder
		cmd := exec.CommandContext(ctx, bins.initdb, args...)
		cmd.Dir = filepath.Dir(target) // the postgres user must be able to enter its working directory
		cmd.Env = childEnv()           // TZ=UTC makes initdb write timezone = 'UTC'
		cmd.Stdout = io.MultiWriter(logf, &out)
		cmd.Stderr = cmd.Stdout
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.owner.cred}
		err := cmd.Run()
		if err == nil {
			return nil
		}
		if locale != "C" && strings.Contains(strings.ToLower(out.String()), "locale") {
			if err := emptyDir(target); err != nil {
				return fmt.Errorf("pgembed: clean %s: %w", target, err)
			}
			continue
		}
		return fmt.Errorf("pgembed: initdb %s: %w\n%s", target, err, tail(out.String(), 20))
	}
	return nil
}

// errBind marks a start that failed because the TCP port was taken between
// choosing it and binding it; Start then tries another port.
var errBind = errors.New("port in use")

// errOrphans marks a start refused because backends of a previous server
// that died (killed, or its parent gone) still hold its shared memory. They
// exit on their own once they notice; Start waits and tries again.
var errOrphans = errors.New("backends of a dead server are still exiting")

// orphanWait bounds how long Start waits for a dead server's backends.
const orphanWait = 15 * time.Second

func (s *Server) launch(ctx context.Context, opts Options, bins binaries, logf *os.File) error {
	orphansUntil := time.Now().Add(orphanWait)
	for attempt := 0; ; attempt++ {
		port := opts.Port
		if port < 0 {
			p, err := freePort()
			if err != nil {
				return err
			}
			port = p
		}
		s.tcp = port != 0
		if port == 0 {
			port = defaultSocketPort
		}
		s.port = port
		sock, err := socketDir(s.dir, port, s.owner, s.log)
		if err != nil {
			return err
		}
		s.socketDir = sock
		sockLock := filepath.Join(sock, fmt.Sprintf(".s.PGSQL.%d.lock", port))
		if st, pid, err := clearStale(sockLock, s.dir, s.owner); err != nil {
			return err
		} else if st == procServing {
			return fmt.Errorf("pgembed: pid %d still serves %s on socket %s", pid, s.dir, sockLock)
		}
		err = s.run(ctx, opts, bins, logf)
		if errors.Is(err, errBind) && opts.Port < 0 && attempt < 3 {
			continue
		}
		if errors.Is(err, errOrphans) && time.Now().Before(orphansUntil) {
			s.log.Info("pgembed: waiting for the backends of a server that died", "dir", s.dir)
			select {
			case <-ctx.Done():
				return err
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		if err == nil && s.tcp && !opts.Detached {
			s.log.Warn("pgembed: the server listens on 127.0.0.1 and trusts every local connection", "port", s.port)
		}
		return err
	}
}

// run starts postgres as our child and waits until it accepts connections.
func (s *Server) run(ctx context.Context, opts Options, bins binaries, logf *os.File) error {
	listen := ""
	if s.tcp {
		listen = "127.0.0.1"
	}
	args := []string{"-D", s.dir, "-k", s.socketDir, "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=" + listen,
		"-c", "unix_socket_permissions=0700",
		"-c", "max_connections=" + strconv.Itoa(opts.MaxConnections),
	}
	if !opts.Fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	for _, kv := range opts.Settings {
		args = append(args, "-c", kv)
	}
	cmd := exec.Command(bins.postgres, args...)
	cmd.Dir = s.dir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	attr := &syscall.SysProcAttr{Credential: s.owner.cred}
	if opts.Detached {
		attr.Setsid = true
	} else {
		// Its own process group keeps a terminal's Ctrl-C from reaching
		// the server before Parley has shut down in order.
		attr.Setpgid = true
		attr.Pdeathsig = parentDeathSignal
	}
	cmd.SysProcAttr = attr

	logStart, _ := logf.Seek(0, io.SeekEnd)
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		// The kernel sends the parent-death signal when the thread that
		// forked the child exits, not the process; Go may retire threads,
		// so this goroutine keeps its thread for the server's lifetime.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgembed: start %s: %w", bins.postgres, err)
	}
	s.pid, s.done = cmd.Process.Pid, done

	exited := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	if err := s.waitReady(ctx, exited); err != nil {
		if !exited() {
			_ = stopProcess(context.Background(), s.pid, s.waitDone)
		}
		out := readTail(s.logPath, logStart, 20)
		switch {
		case strings.Contains(out, "could not bind") || strings.Contains(out, "could not create any TCP/IP sockets"):
			err = fmt.Errorf("%w: %w", errBind, err)
		case strings.Contains(out, "pre-existing shared memory block"):
			err = fmt.Errorf("%w: %w", errOrphans, err)
		}
		return fmt.Errorf("%w; server log %s:\n%s", err, s.logPath, out)
	}
	s.log.Debug("pgembed: server ready", "dir", s.dir, "pid", s.pid, "port", s.port, "socket_dir", s.socketDir)
	return nil
}

// waitReady polls until the server accepts a connection. Polling is the
// only signal that covers crash recovery, which may take seconds.
func (s *Server) waitReady(ctx context.Context, exited func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		if exited() {
			return errors.New("pgembed: the server exited during start-up")
		}
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, s.socketURL("postgres"))
		ccancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgembed: the server did not accept connections within %s: %w (last error: %v)", readyTimeout, ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitDone waits up to d, or until ctx ends, for our child to exit.
func (s *Server) waitDone(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// socketDir keeps the socket inside the cluster directory, which only the
// server's user (and root) can enter, unless the path would be too long
// for a socket; then it uses a short private directory under /tmp.
func socketDir(dir string, port int, o *owner, log *slog.Logger) (string, error) {
	if len(filepath.Join(dir, fmt.Sprintf(".s.PGSQL.%d", port))) <= maxSocketPath {
		return dir, nil
	}
	short := filepath.Join("/tmp", "parley-pg-"+shortHash(dir))
	if err := os.Mkdir(short, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("pgembed: socket directory: %w", err)
	}
	fi, err := os.Lstat(short)
	if err != nil {
		return "", fmt.Errorf("pgembed: socket directory: %w", err)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || st == nil {
		return "", fmt.Errorf("pgembed: socket directory %s is not a directory", short)
	}
	if st.Uid != o.uid {
		// In a world-writable /tmp, only a directory we made ourselves is
		// trusted: root made it a moment ago and hands it over.
		if o.cred == nil || st.Uid != 0 {
			return "", fmt.Errorf("pgembed: socket directory %s belongs to uid %d; remove it", short, st.Uid)
		}
		if err := o.chown(short); err != nil {
			return "", fmt.Errorf("pgembed: socket directory: %w", err)
		}
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(short, 0o700); err != nil {
			return "", fmt.Errorf("pgembed: socket directory: %w", err)
		}
	}
	log.Info("pgembed: the cluster path is too long for a Unix socket; the socket lives in a short directory", "dir", dir, "socket_dir", short)
	return short, nil
}

// freePort asks the kernel for a free port on 127.0.0.1. Another process
// may take it before postgres binds it; launch retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgembed: pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL returns a connection string for database on this server as the
// superuser User: over TCP when the server listens on TCP (pgtestdb and
// other tools need host and port), otherwise over the Unix socket.
func (s *Server) URL(database string) string {
	if s.tcp {
		return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", User, s.port, url.PathEscape(database))
	}
	return s.socketURL(database)
}

func (s *Server) socketURL(database string) string {
	host := strings.ReplaceAll(url.QueryEscape(s.socketDir), "%2F", "/")
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable", User, url.PathEscape(database), host, s.port)
}

// Host is the host a client should use: 127.0.0.1 when the server listens
// on TCP, else the socket directory (libpq reads a path as a socket).
func (s *Server) Host() string {
	if s.tcp {
		return "127.0.0.1"
	}
	return s.socketDir
}

// Port is the TCP port, or with no TCP the number in the socket's name.
func (s *Server) Port() int { return s.port }

// SocketDir is where the server's Unix socket is, which is always open
// whatever Options.Port says.
func (s *Server) SocketDir() string { return s.socketDir }

// Dir is the cluster directory actually used, which differs from
// Options.Dir when the postgres user could not reach that one.
func (s *Server) Dir() string { return s.dir }

// LogFile is where the server writes its log, the first place to look
// when it misbehaves.
func (s *Server) LogFile() string { return s.logPath }

// PID is the postmaster's process id, for diagnostics.
func (s *Server) PID() int { return s.pid }

// Done is closed when a server this process started exits, whether by Stop
// or not (a crash, the OOM killer), so that Parley can shut down rather
// than keep serving errors. For a detached server found already running it
// is nil: such a server is not watched.
func (s *Server) Done() <-chan struct{} { return s.done }

// EnsureDatabase creates database name unless it exists, so that Parley can
// start on a fresh cluster. It is safe to call concurrently from several
// processes.
func (s *Server) EnsureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.socketURL("postgres"))
	if err != nil {
		return fmt.Errorf("pgembed: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("pgembed: look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: another process won the race
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgembed: create database %q: %w", name, err)
	}
	s.log.Info("pgembed: created database", "name", name)
	return nil
}

// Stop shuts the server down: a fast shutdown (SIGINT) that rolls back open
// transactions and checkpoints, escalating to an immediate shutdown
// (SIGQUIT) after 30 s or when ctx ends, then to SIGKILL. It then releases
// the cluster lock. Calling it again returns the first result. Stop also
// stops a detached server, which is how a test harness ends one.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.stopErr = s.stop(ctx)
	})
	return s.stopErr
}

func (s *Server) stop(ctx context.Context) error {
	defer func() {
		if s.lock != nil {
			s.lock.Close()
		}
	}()
	start := time.Now()
	var err error
	if s.done != nil {
		if s.waitDone(ctx, 0) {
			s.log.Warn("pgembed: the server had already exited", "dir", s.dir, "log", s.logPath)
			return nil
		}
		err = stopProcess(ctx, s.pid, s.waitDone)
	} else {
		err = stopProcess(ctx, s.pid, pollGone(s.pid, s.dir, s.owner))
	}
	if err == nil {
		s.log.Debug("pgembed: server stopped", "dir", s.dir, "took", time.Since(start).Round(time.Millisecond))
	}
	return err
}

// StopDetached stops the server a detached Start left running for
// opts.Dir (only Dir and Logger are used); with none running it does
// nothing. It exists so that a test run can end its shared server from a
// process that did not start it.
func StopDetached(ctx context.Context, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	o, err := serverOwner()
	if err != nil {
		return err
	}
	pl, err := place(opts.Dir, o)
	if err != nil {
		return err
	}
	if _, err := os.Stat(pl.dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	lock, err := lockCluster(ctx, pl.dir, lockStartup)
	if err != nil {
		return err
	}
	defer lock.Close()
	st, pid, err := clearStale(filepath.Join(pl.dir, "postmaster.pid"), pl.dir, o)
	if err != nil || st != procServing {
		return err
	}
	if err := stopProcess(ctx, pid, pollGone(pid, pl.dir, o)); err != nil {
		return err
	}
	log.Debug("pgembed: stopped a detached server", "dir", pl.dir, "pid", pid)
	return nil
}

// openLog opens the server's log for appending, first moving a large one
// aside so that a long-lived installation does not fill its disk.
func openLog(path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > logRotateSize {
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("pgembed: open log file: %w", err)
	}
	return f, nil
}

// readTail returns the last n lines written to path after offset.
func readTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > 64<<10 {
		offset = fi.Size() - 64<<10
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return tail(string(b), n)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// emptyDir removes everything inside dir but dir itself, keeping its owner
// and mode (and working for a mount point).
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
