package app

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/filetest"
	"github.com/parleydesk/parley/models"
)

// uploadBenchSize is the file BenchmarkUpload sends (PARLEY_BENCH_UPLOAD_MB
// changes it).
func uploadBenchSize() int64 {
	if s := os.Getenv("PARLEY_BENCH_UPLOAD_MB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return int64(n) << 20
		}
	}
	return 50 << 20
}

// mp4Body is an endless stream: an MP4 header, then pseudo-random bytes
// (generated as read: the client holds no copy of the file either).
type mp4Body struct {
	head []byte
	rng  *rand.ChaCha8
}

func (m *mp4Body) Read(p []byte) (int, error) {
	if len(m.head) > 0 {
		n := copy(p, m.head)
		m.head = m.head[n:]
		return n, nil
	}
	return m.rng.Read(p)
}

// BenchmarkUpload measures a 50 MB upload through the widget's route, end
// to end (HTTP, sniffing, hashing, storage, and clamd for "scanned"), and
// the server's peak memory while it streams: the Go heap in use above what
// it was before the upload (sampled every 5 ms), and the process's peak
// RSS (VmHWM). Run: go test ./app -run '^$' -bench BenchmarkUpload -benchtime 3x
func BenchmarkUpload(b *testing.B) {
	for _, c := range []string{"local", "s3", "local+clamd"} {
		b.Run(c, func(b *testing.B) {
			cfg := map[string]string{}
			if strings.HasPrefix(c, "s3") {
				cfg = s3Config(filetest.StartS3(b))
			}
			if strings.HasSuffix(c, "clamd") {
				cfg["PARLEY_CLAMD"] = filetest.StartClamd(b).Address
			}
			e := setup(b, envOpts{config: cfg})
			require.NoError(b, e.app.write(context.Background(), func(tx models.Tx) error {
				return models.SetFileLimits(context.Background(), tx, models.FileLimitsInput{MaxMB: "200", Types: []string{"video"}, PerMessage: "5"})
			}))
			w := e.newVisitor()
			pid := w.start("Here comes a recording")
			size := uploadBenchSize()

			var peak atomic.Uint64
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			stop := make(chan struct{})
			go func() {
				var m runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}()
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body := &mp4Body{head: []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), rng: rand.NewChaCha8([32]byte{byte(i)})}
				req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/widget/conversations/"+pid+"/files?name="+url.QueryEscape("recording.mp4"), io.LimitReader(body, size))
				require.NoError(b, err)
				req.ContentLength = size
				req.Header.Set("Content-Type", "application/octet-stream")
				req.Header.Set(visitorHeader, w.token)
				res, err := http.DefaultClient.Do(req)
				require.NoError(b, err)
				msg, _ := io.ReadAll(res.Body)
				res.Body.Close()
				require.Equal(b, http.StatusOK, res.StatusCode, string(msg))
			}
			b.StopTimer()
			close(stop)
			heap := float64(0)
			if p := peak.Load(); p > base {
				heap = float64(p-base) / (1 << 20)
			}
			b.ReportMetric(heap, "peak-heap-MB")
			b.ReportMetric(float64(vmHWM())/1024, "peak-RSS-MB")
			b.Logf("%s: %d MB per upload, peak Go heap in use +%.1f MB over the idle server, process peak RSS %.0f MB", c, size>>20, heap, float64(vmHWM())/1024)
		})
	}
}

// vmHWM is the process's peak resident set, in KiB (Linux).
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "VmHWM:"), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
