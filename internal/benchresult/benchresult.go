// Package benchresult is what cmd/parley-bench -json writes and
// cmd/parley-scale reads: one messaging run's figures.
package benchresult

// Result is one parley-bench run.
type Result struct {
	Posted         int64   `json:"posted"` // acknowledged (2xx)
	Failed         int64   `json:"failed"`
	PostsPerSec    float64 `json:"posts_per_sec"`
	PostP50Ms      float64 `json:"post_p50_ms"`
	PostP99Ms      float64 `json:"post_p99_ms"`
	DeliveryP50Ms  float64 `json:"delivery_p50_ms"`
	DeliveryP99Ms  float64 `json:"delivery_p99_ms"`
	Expected       int64   `json:"expected"`
	Delivered      int64   `json:"delivered"`
	Lost           int64   `json:"lost"`
	LostToAgents   int64   `json:"lost_to_agents"`
	LostToVisitors int64   `json:"lost_to_visitors"`
	Duplicated     int64   `json:"duplicated"`
	// Superseded: deliveries to an agent's inbox row or a visitor's home
	// view that already showed a newer message of the conversation
	// (counted as delivered).
	Superseded    int64          `json:"superseded"`
	AckedMissing  int64          `json:"acked_missing_from_db"`
	StoredUnacked int64          `json:"stored_unacked"`
	Reconnects    int64          `json:"stream_reconnects"`
	Reloads       int64          `json:"stream_reloads"`
	Upstreams     map[string]int `json:"stream_upstreams,omitempty"`
}
