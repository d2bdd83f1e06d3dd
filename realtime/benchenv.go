package realtime

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/pocketbase/pocketbase/core"
)

// Switches for the benchmark program (bench/scale.go) only, read at start;
// neither is meant for a deployment.
//
//   - PORTAL_BENCH_POCKETBASE_REALTIME=1 leaves the tickets' and messages'
//     realtime events to PocketBase's own broadcaster (the baseline the
//     portal's dispatcher is measured against).
//   - PORTAL_BENCH_PPROF=127.0.0.1:PORT serves Go's profiler on that
//     loopback address (any other address stops the server at start).
const (
	benchPocketBaseRealtimeEnv = "PORTAL_BENCH_POCKETBASE_REALTIME"
	benchPprofEnv              = "PORTAL_BENCH_PPROF"
)

func bindBenchSwitches(app core.App) {
	if os.Getenv(benchPocketBaseRealtimeEnv) == "1" {
		pocketBaseBroadcasts.Store(true)
		app.Logger().Warn(benchPocketBaseRealtimeEnv + " is set: PocketBase's own broadcaster sends the ticket events (benchmarks only)")
	}
	addr := os.Getenv(benchPprofEnv)
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		app.OnBootstrap().BindFunc(func(e *core.BootstrapEvent) error {
			return fmt.Errorf("%s must be a loopback address such as 127.0.0.1:6060, not %q", benchPprofEnv, addr)
		})
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go func() {
		app.Logger().Warn(benchPprofEnv+" is set: profiler on "+addr+" (benchmarks only)", "error", http.ListenAndServe(addr, mux))
	}()
}
