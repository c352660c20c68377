package benchdb

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// ProcessCPU is the CPU time (user and system) process pid has used,
// including its children that have exited and been waited for; 0 if it
// cannot be read.
func ProcessCPU(pid int) time.Duration {
	f, ok := procStat(pid)
	if !ok {
		return 0
	}
	return statCPU(f)
}

// PostgresCPU is the CPU time the private PostgreSQL has used: the
// postmaster, its running backends and background processes, and those
// that have exited. ok is false with DATABASE_URL (a server of its own,
// perhaps elsewhere).
func (d *DB) PostgresCPU() (_ time.Duration, ok bool) {
	if d.pgDir == "" {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(d.pgDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return 0, false
	}
	total := ProcessCPU(pid)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f, ok := procStat(child); ok && f[1] == strconv.Itoa(pid) {
			total += statCPU(f)
		}
	}
	return total, true
}

// procStat is /proc/pid/stat's fields after the command name: state, ppid,
// …; fields[11:15] are utime, stime, cutime and cstime.
func procStat(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(s[i+1:])
	return f, len(f) > 14
}

func statCPU(f []string) time.Duration {
	var ticks int64
	for _, v := range f[11:15] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * clockTick
}
