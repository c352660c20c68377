package pgembed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// fallbackRoot holds clusters whose requested directory the postgres user
// cannot reach (a checkout under /root, a 0700 temporary directory).
const fallbackRoot = "/var/lib/parley"

// owner is the OS account the server runs as. cred is nil when that is the
// current user; it is set when running as root, because PostgreSQL refuses
// to run as root.
type owner struct {
	uid, gid uint32
	groups   []uint32
	cred     *syscall.Credential
}

func serverOwner() (*owner, error) {
	if os.Geteuid() != 0 {
		o := &owner{uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}
		gs, _ := os.Getgroups()
		for _, g := range gs {
			o.groups = append(o.groups, uint32(g))
		}
		return o, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgembed: running as root, so PostgreSQL must run as the \"postgres\" OS user, which does not exist (%v): create it with `useradd --system --home /var/lib/postgresql postgres`, or install the postgresql package", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgembed: postgres user ids: %w", err)
	}
	o := &owner{uid: uint32(uid), gid: uint32(gid)}
	gids, _ := u.GroupIds()
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			o.groups = append(o.groups, uint32(n))
		}
	}
	if !slices.Contains(o.groups, o.gid) {
		o.groups = append(o.groups, o.gid)
	}
	o.cred = &syscall.Credential{Uid: o.uid, Gid: o.gid, Groups: o.groups}
	return o, nil
}

// canEnter reports whether the owner may traverse a directory, judged by
// its mode bits the way the kernel does (owner, then group, then other).
func (o *owner) canEnter(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == o.uid:
		return perm&0o100 != 0
	case st.Gid == o.gid || slices.Contains(o.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// chown hands a path to the owner when we run as root; otherwise the
// files are ours already.
func (o *owner) chown(path string) error {
	if o.cred == nil {
		return nil
	}
	return os.Lchown(path, int(o.uid), int(o.gid))
}

// placement is where a requested cluster directory really lives.
type placement struct {
	requested string // absolute form of Options.Dir
	dir       string // the cluster directory used
	fallback  bool   // dir is under fallbackRoot because requested is unreachable
}

// place decides where the cluster for requested lives, without creating
// anything. It is a pure function of the path and the file system's modes,
// so the same request lands in the same cluster on every start.
func place(requested string, o *owner) (placement, error) {
	abs, err := filepath.Abs(requested)
	if err != nil {
		return placement{}, fmt.Errorf("pgembed: cluster directory: %w", err)
	}
	p := placement{requested: abs, dir: abs}
	if o.cred == nil || reachable(abs, o) {
		return p, nil
	}
	p.dir = filepath.Join(fallbackRoot, shortHash(abs), "postgres")
	p.fallback = true
	return p, nil
}

// reachable reports whether the owner can traverse every existing ancestor
// of dir. Missing ancestors do not count against it: prepare creates them
// 0755. Symbolic links are resolved first, because the kernel checks the
// directories the link leads through, not the link.
func reachable(dir string, o *owner) bool {
	existing := filepath.Dir(dir)
	for {
		if _, err := os.Stat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			return true
		}
		existing = parent
	}
	if resolved, err := filepath.EvalSymlinks(existing); err == nil {
		existing = resolved
	}
	for p := existing; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || !o.canEnter(fi) {
			return false
		}
		if filepath.Dir(p) == p {
			return true
		}
	}
}

// prepare creates the cluster directory and its parents, makes it 0700 and
// gives it to the owner, as PostgreSQL requires.
func (p placement) prepare(o *owner, log *slog.Logger) error {
	parent := filepath.Dir(p.dir)
	if err := mkdirParents(parent); err != nil {
		return fmt.Errorf("pgembed: create %s: %w", parent, err)
	}
	if p.fallback {
		log.Warn("pgembed: the postgres user cannot reach the requested cluster directory, so the cluster is kept elsewhere",
			"requested", p.requested, "dir", p.dir)
		// A note for whoever finds this directory and wonders whose it is.
		note := filepath.Join(parent, "REQUESTED_DIR")
		if _, err := os.Stat(note); err != nil {
			_ = os.WriteFile(note, []byte(p.requested+"\n"), 0o644)
		}
	}
	if err := os.Mkdir(p.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pgembed: create cluster directory: %w", err)
	}
	fi, err := os.Stat(p.dir)
	if err != nil {
		return fmt.Errorf("pgembed: cluster directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("pgembed: cluster directory %s is not a directory", p.dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && o.cred != nil && st.Uid != o.uid {
		// A cluster made while running as another user, or a directory
		// created by hand: every file must belong to the server's user.
		err := filepath.WalkDir(p.dir, func(path string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return o.chown(path)
		})
		if err != nil {
			return fmt.Errorf("pgembed: give %s to the postgres user: %w", p.dir, err)
		}
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(p.dir, 0o700); err != nil {
			return fmt.Errorf("pgembed: cluster directory: %w", err)
		}
	}
	return nil
}

// mkdirParents is os.MkdirAll that makes every directory it creates 0755
// whatever the umask, so that the server's user can pass through it.
func mkdirParents(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirParents(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	return os.Chmod(dir, 0o755)
}

// shortHash names per-cluster things outside the cluster (fallback
// directory, short socket directory) stably and briefly.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
