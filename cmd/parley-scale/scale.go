package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	"github.com/parleydesk/parley/internal/benchresult"
	"github.com/parleydesk/parley/internal/pgembed"
)

type options struct {
	instances, visitors, agents, senders int
	rate                                 float64
	duration, killAfter                  time.Duration
	bench                                string
	drain, keep                          bool
}

// benchResult is what parley-bench -json writes.
type benchResult = benchresult.Result

// results are the two runs' figures.
type results struct {
	Steady, Kill benchResult
	Instances    int
}

// check holds the promises: the steady run loses and duplicates nothing
// and every post succeeds; with an instance killed, no acknowledged message
// is missing from the database or from the streams that should get it.
func (r results) check() error {
	var errs []error
	s, k := r.Steady, r.Kill
	if s.Posted == 0 || s.Failed != 0 || s.Lost != 0 || s.Duplicated != 0 || s.AckedMissing != 0 {
		errs = append(errs, fmt.Errorf("steady run: posted %d, failed %d, lost %d, duplicated %d, acknowledged but not stored %d (want posts, and zeros)",
			s.Posted, s.Failed, s.Lost, s.Duplicated, s.AckedMissing))
	}
	if len(s.Upstreams) < r.Instances {
		errs = append(errs, fmt.Errorf("steady run: streams reached %d upstreams %v, want all %d instances", len(s.Upstreams), s.Upstreams, r.Instances))
	}
	if k.Posted == 0 || k.Lost != 0 || k.AckedMissing != 0 {
		errs = append(errs, fmt.Errorf("kill -9 run: acknowledged %d, not delivered %d (to agents %d, to visitors %d), not stored %d (want posts, and zeros)",
			k.Posted, k.Lost, k.LostToAgents, k.LostToVisitors, k.AckedMissing))
	}
	if k.Reconnects == 0 {
		errs = append(errs, errors.New("kill -9 run: no stream reconnected, so no stream was on the killed instance"))
	}
	return errors.Join(errs...)
}

// proc is a child process and where its output goes.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func (p *proc) stop(sig syscall.Signal, wait time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(wait):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func startProc(name, logPath string, cred *syscall.Credential, env []string, bin string, args ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so the terminal's Ctrl-C reaches only us (we
	// stop the children in order), and the kernel's SIGKILL if we die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls check until it succeeds, p exits, or d passes.
func waitFor(ctx context.Context, p *proc, d time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p != nil {
			select {
			case <-p.done:
				return fmt.Errorf("%s exited: %s", p.name, p.tail())
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v", what, d, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func httpReady(u string) func() error {
	return func() error {
		res, err := http.Get(u)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
}

func tcpReady(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
}

// buildBench builds cmd/parley-bench (from the module this command is in).
func buildBench(ctx context.Context, dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go is not on PATH, so parley-bench cannot be built: pass -bench: %w", err)
	}
	out := filepath.Join(dir, "parley-bench")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "github.com/parleydesk/parley/cmd/parley-bench")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build parley-bench: %v\n%s", err, b)
	}
	return out, nil
}

// postgresCred is who runs PgBouncer, which refuses to run as root: the
// postgres OS user, as for PostgreSQL itself (nil when we are not root).
func postgresCred() (*syscall.Credential, int, int, error) {
	if os.Geteuid() != 0 {
		return nil, -1, -1, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("PgBouncer must not run as root, and there is no postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid, nil
}

// run starts everything, runs both benchmark passes, stops everything and
// returns their figures; out receives the progress and the figures.
func run(ctx context.Context, o options, out io.Writer) (res results, err error) {
	res.Instances = o.instances
	// The benchmark's stdout and stderr are copied here concurrently.
	out = &lockedWriter{w: out}
	if o.instances < 2 {
		return res, errors.New("-instances: at least 2 (one is killed)")
	}
	if o.killAfter <= 0 {
		o.killAfter = o.duration / 2
	}
	pgbouncerBin, err := exec.LookPath("pgbouncer")
	if err != nil {
		pgbouncerBin = "/usr/sbin/pgbouncer"
	}
	nginxBin, err := exec.LookPath("nginx")
	if err != nil {
		nginxBin = "/usr/sbin/nginx"
	}
	for _, b := range []string{pgbouncerBin, nginxBin} {
		if _, err := os.Stat(b); err != nil {
			return res, fmt.Errorf("%s is missing: apt-get install -y pgbouncer nginx (make deps-test installs them)", filepath.Base(b))
		}
	}
	logf := func(format string, args ...any) { fmt.Fprintf(out, "parley-scale: "+format+"\n", args...) }

	tmp, err := os.MkdirTemp("", "parley-scale-*")
	if err != nil {
		return res, err
	}
	// PostgreSQL and PgBouncer run as postgres: they must enter it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return res, err
	}
	var procs []*proc // stopped in reverse order
	var pg *pgembed.Server
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop(syscall.SIGTERM, 10*time.Second)
		}
		if pg != nil {
			pg.Stop(context.Background())
		}
		if o.keep || (err != nil && ctx.Err() == nil) {
			logf("kept %s (configurations and logs)", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()
	start := time.Now()

	// 1. PostgreSQL, the primary.
	pg, err = pgembed.Start(ctx, pgembed.Options{Dir: filepath.Join(tmp, "postgres"), Port: -1, MaxConnections: 300})
	if err != nil {
		return res, err
	}
	if err = pg.EnsureDatabase(ctx, "parley"); err != nil {
		return res, err
	}
	direct := pg.URL("parley")
	logf("PostgreSQL on 127.0.0.1:%d (%s)", pg.Port(), time.Since(start).Round(time.Millisecond))

	// 2. PgBouncer, transaction pooling.
	cred, uid, gid, err := postgresCred()
	if err != nil {
		return res, err
	}
	bdir := filepath.Join(tmp, "pgbouncer")
	if err = os.Mkdir(bdir, 0o755); err != nil {
		return res, err
	}
	bport, err := freePort()
	if err != nil {
		return res, err
	}
	if err = writeTemplate(filepath.Join(bdir, "pgbouncer.ini"), pgbouncerIni, map[string]any{
		"Dir": bdir, "Port": bport, "PGPort": pg.Port(), "User": pgembed.User}); err != nil {
		return res, err
	}
	if err = os.WriteFile(filepath.Join(bdir, "userlist.txt"), []byte(fmt.Sprintf("%q \"\"\n", pgembed.User)), 0o644); err != nil {
		return res, err
	}
	if cred != nil {
		if err = os.Chown(bdir, uid, gid); err != nil {
			return res, err
		}
	}
	bouncer, err := startProc("pgbouncer", filepath.Join(tmp, "pgbouncer.out"), cred, os.Environ(), pgbouncerBin, filepath.Join(bdir, "pgbouncer.ini"))
	if err != nil {
		return res, err
	}
	procs = append(procs, bouncer)
	baddr := fmt.Sprintf("127.0.0.1:%d", bport)
	if err = waitFor(ctx, bouncer, 20*time.Second, "pgbouncer", tcpReady(baddr)); err != nil {
		return res, err
	}
	pooled := fmt.Sprintf("postgres://%s@%s/parley?sslmode=disable", pgembed.User, baddr)
	logf("PgBouncer %s on %s, pool_mode=transaction", pgbouncerVersion(pgbouncerBin), baddr)

	// 3. The instances (parley-bench -serve: Parley's server with the
	// widget's per-IP limits lifted, since all the load comes from here).
	bench := o.bench
	if bench == "" {
		t := time.Now()
		if bench, err = buildBench(ctx, tmp); err != nil {
			return res, err
		}
		logf("built parley-bench (%s)", time.Since(t).Round(time.Millisecond))
	}
	nport, err := freePort()
	if err != nil {
		return res, err
	}
	proxyURL := fmt.Sprintf("http://127.0.0.1:%d", nport)
	var upstreams []string
	var instances []*proc
	for i := range o.instances {
		port, err := freePort()
		if err != nil {
			return res, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		dir := filepath.Join(tmp, fmt.Sprintf("parley%d", i+1))
		env := append(os.Environ(), "DATABASE_URL="+pooled, "PARLEY_DIRECT_DATABASE_URL="+direct, "PARLEY_DB_POOLER=pgbouncer",
			"PARLEY_LISTEN="+addr, "PARLEY_BASE_URL="+proxyURL, "PARLEY_DATA_DIR="+dir, "PARLEY_FILES_DIR="+filepath.Join(tmp, "files"),
			"PARLEY_LOG_LEVEL=warn", "PARLEY_DB_MAX_CONNS=20")
		p, err := startProc(fmt.Sprintf("parley%d", i+1), filepath.Join(tmp, fmt.Sprintf("parley%d.log", i+1)), nil, env, bench, "-serve")
		if err != nil {
			return res, err
		}
		procs = append(procs, p)
		instances = append(instances, p)
		upstreams = append(upstreams, addr)
	}
	for i, p := range instances {
		if err = waitFor(ctx, p, 90*time.Second, p.name, httpReady("http://"+upstreams[i]+"/readyz")); err != nil {
			return res, err
		}
	}
	logf("%d Parley instances on %s (%s since start)", len(instances), strings.Join(upstreams, ", "), time.Since(start).Round(time.Millisecond))

	// 4. nginx in front.
	ndir := filepath.Join(tmp, "nginx")
	if err = os.Mkdir(ndir, 0o755); err != nil {
		return res, err
	}
	if err = writeTemplate(filepath.Join(ndir, "nginx.conf"), nginxConf, map[string]any{
		"Dir": ndir, "Port": nport, "Upstreams": upstreams, "Root": os.Geteuid() == 0}); err != nil {
		return res, err
	}
	ngx, err := startProc("nginx", filepath.Join(tmp, "nginx.out"), nil, os.Environ(), nginxBin,
		"-p", ndir, "-c", filepath.Join(ndir, "nginx.conf"), "-e", filepath.Join(ndir, "error.log"))
	if err != nil {
		return res, err
	}
	procs = append(procs, ngx)
	if err = waitFor(ctx, ngx, 20*time.Second, "nginx", httpReady(proxyURL+"/readyz")); err != nil {
		return res, fmt.Errorf("%w\n%s", err, readTail(filepath.Join(ndir, "error.log")))
	}
	logf("nginx on %s in front of them (%s since start)", proxyURL, time.Since(start).Round(time.Millisecond))

	// 5. The two runs through nginx.
	args := []string{"-base", proxyURL, "-visitors", strconv.Itoa(o.visitors), "-agents", strconv.Itoa(o.agents),
		"-rate", strconv.FormatFloat(o.rate, 'f', -1, 64), "-senders", strconv.Itoa(o.senders),
		"-duration", o.duration.String(), "-warmup", "1s", "-drain=" + strconv.FormatBool(o.drain)}
	benchEnv := append(os.Environ(), "DATABASE_URL="+direct)
	logf("run 1: steady, %d visitors, %d agents, %.0f msg/s for %s", o.visitors, o.agents, o.rate, o.duration)
	if res.Steady, err = runBench(ctx, bench, benchEnv, append(args, "-json", filepath.Join(tmp, "steady.json")), out, nil); err != nil {
		return res, fmt.Errorf("run 1: %w", err)
	}
	victim := instances[len(instances)/2]
	logf("run 2: the same, and %s (%s) gets SIGKILL %s after posting starts", victim.name, upstreams[len(instances)/2], o.killAfter)
	var killedAt time.Time
	onPosting := func() {
		time.AfterFunc(o.killAfter, func() {
			killedAt = time.Now()
			victim.cmd.Process.Kill()
			logf("kill -9 %s (pid %d)", victim.name, victim.cmd.Process.Pid)
		})
	}
	if res.Kill, err = runBench(ctx, bench, benchEnv, append(args, "-json", filepath.Join(tmp, "kill.json")), out, onPosting); err != nil {
		return res, fmt.Errorf("run 2: %w", err)
	}
	if killedAt.IsZero() {
		return res, errors.New("run 2 ended before the kill: give it a longer -duration or a shorter -kill-after")
	}
	report(out, res)
	return res, nil
}

// runBench runs parley-bench, copying its output, calling onPosting when it
// starts posting, and reads its -json figures.
func runBench(ctx context.Context, bin string, env, args []string, out io.Writer, onPosting func()) (benchResult, error) {
	var r benchResult
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	var once sync.Once
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, "  | "+line)
		if line == "posting: started" && onPosting != nil {
			once.Do(onPosting)
		}
	}
	if err := cmd.Wait(); err != nil {
		return r, fmt.Errorf("parley-bench: %w", err)
	}
	jsonPath := args[len(args)-1]
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(b, &r)
}

func report(out io.Writer, r results) {
	fmt.Fprintf(out, "\nparley-scale: %d instances behind nginx, main pools through PgBouncer (transaction pooling)\n", r.Instances)
	for _, x := range []struct {
		name string
		b    benchResult
	}{{"steady", r.Steady}, {"kill -9", r.Kill}} {
		b := x.b
		fmt.Fprintf(out, "  %-8s posted %d acknowledged (%.0f/s), %d failed; post p50 %.1f ms p99 %.1f ms; delivery p50 %.1f ms p99 %.1f ms\n",
			x.name, b.Posted, b.PostsPerSec, b.Failed, b.PostP50Ms, b.PostP99Ms, b.DeliveryP50Ms, b.DeliveryP99Ms)
		fmt.Fprintf(out, "  %-8s delivered %d of %d (%d of them rows already newer), lost %d, duplicated %d; acknowledged but not stored %d; stored though the POST failed %d; streams reconnected %d, reloads %d; streams per upstream %v\n",
			"", b.Delivered, b.Expected, b.Superseded, b.Lost, b.Duplicated, b.AckedMissing, b.StoredUnacked, b.Reconnects, b.Reloads, b.Upstreams)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func readTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func pgbouncerVersion(bin string) string {
	b, _ := exec.Command(bin, "--version").Output()
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimPrefix(strings.TrimSpace(line), "PgBouncer ")
}

func writeTemplate(path, text string, data any) error {
	var b strings.Builder
	if err := template.Must(template.New(filepath.Base(path)).Parse(text)).Execute(&b, data); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// pgbouncerIni is PgBouncer's configuration (docs/deploy.md shows the same
// settings for a real deployment). jit is turned off per server connection
// here, since Parley cannot send it as a startup parameter through
// PgBouncer.
const pgbouncerIni = `[databases]
parley = host=127.0.0.1 port={{.PGPort}} dbname=parley connect_query='SET jit = off'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {{.Port}}
unix_socket_dir =
auth_type = trust
auth_file = {{.Dir}}/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 30
reserve_pool_size = 5
ignore_startup_parameters = extra_float_digits
logfile = {{.Dir}}/pgbouncer.log
pidfile = {{.Dir}}/pgbouncer.pid
admin_users = {{.User}}
`

// nginxConf runs nginx in the foreground with every path in the temporary
// directory. The SSE routes are unbuffered (Parley also sends
// X-Accel-Buffering: no) with a long read timeout; X-Parley-Upstream tells
// the benchmark which instance answered.
const nginxConf = `{{if .Root}}user root;
{{end}}daemon off;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	client_body_temp_path {{.Dir}}/client_body;
	proxy_temp_path {{.Dir}}/proxy;
	fastcgi_temp_path {{.Dir}}/fastcgi;
	uwsgi_temp_path {{.Dir}}/uwsgi;
	scgi_temp_path {{.Dir}}/scgi;
	client_max_body_size 30m;

	upstream parley {
{{range .Upstreams}}		server {{.}} max_fails=1 fail_timeout=5s;
{{end}}		keepalive 64;
	}
	server {
		listen 127.0.0.1:{{.Port}};
		proxy_http_version 1.1;
		proxy_set_header Connection "";
		proxy_set_header Host $http_host;
		proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
		proxy_set_header X-Forwarded-Proto $scheme;
		add_header X-Parley-Upstream $upstream_addr always;

		location ~ ^/(desk|widget)/events$ {
			proxy_pass http://parley;
			proxy_buffering off;
			proxy_cache off;
			proxy_read_timeout 1h;
		}
		location / {
			proxy_pass http://parley;
		}
	}
}
`
