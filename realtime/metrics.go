package realtime

import (
	"github.com/prometheus/client_golang/prometheus"

	"ticketportal/metrics"
)

// The realtime bounds' counters on /metrics: clients cut and requests
// refused by the bounds of limits.go, and updates coalesced for a
// client that fell behind.
func init() {
	counter := func(name, help string, read func(Counts) int64) {
		_ = metrics.Add(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "ticketportal", Subsystem: "realtime", Name: name, Help: help,
		}, func() float64 { return float64(read(Stats())) }))
	}
	counter("cut_slow_total", "Realtime clients cut because a write to them timed out.", func(c Counts) int64 { return c.CutSlow })
	counter("cut_queue_full_total", "Realtime clients cut because their queue overflowed.", func(c Counts) int64 { return c.CutQueueFull })
	counter("cut_revoked_total", "Realtime clients closed because their account was deleted or demoted.", func(c Counts) int64 { return c.CutRevoked })
	counter("refused_subscribe_total", "Realtime subscription requests refused by the bounds.", func(c Counts) int64 { return c.RefusedSubscribe })
	counter("refused_connect_total", "Realtime connections refused by the bounds.", func(c Counts) int64 { return c.RefusedConnect })
	counter("writes_total", "Writes of the engine's messages to realtime connections (one flush each).", func(c Counts) int64 { return c.Writes })
	counter("messages_written_total", "Messages in those writes (more than the writes when the pacing batches them).", func(c Counts) int64 { return c.MessagesWritten })
	counter("handed_back_total", "Writes to realtime connections that the socket did not take at once (a client reading slowly), finished under the write timeout.", func(c Counts) int64 { return c.HandedBack })
	counter("coalesced_total", "Realtime updates replaced by a newer update of the same record for a client that fell behind.", func(c Counts) int64 { return c.Coalesced })
}
