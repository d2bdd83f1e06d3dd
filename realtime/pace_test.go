package realtime

import (
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

func TestPacerSpacesWritesByTheConnectionsWrittenToInASecond(t *testing.T) {
	p := pacer{budget: 1000}
	if got := p.interval(); got != 0 {
		t.Fatalf("no connection written yet: interval %v, want 0", got)
	}
	now := time.Unix(1_000_000, 0)
	windows := make([]int64, 500)
	for i := range windows {
		p.wrote(&windows[i], now)
		p.wrote(&windows[i], now.Add(time.Millisecond)) // a connection counts once a second
	}
	if got := p.interval(); got != 500*time.Millisecond {
		t.Fatalf("500 connections, 1000 writes a second: interval %v, want 500ms", got)
	}
	// the next second keeps the last one's count until it has more
	next := now.Add(time.Second)
	p.wrote(&windows[0], next)
	if got := p.interval(); got != 500*time.Millisecond {
		t.Fatalf("a second later: interval %v, want the last second's 500ms", got)
	}
	// a quiet second in between forgets it
	later := next.Add(5 * time.Second)
	p.wrote(&windows[1], later)
	if got := p.interval(); got != time.Millisecond {
		t.Fatalf("after a quiet while, one connection: interval %v, want 1ms", got)
	}
	// never more than maxPaceInterval
	busy := pacer{budget: 10}
	ws := make([]int64, 100)
	for i := range ws {
		busy.wrote(&ws[i], now)
	}
	if got := busy.interval(); got != maxPaceInterval {
		t.Fatalf("100 connections, 10 writes a second: interval %v, want the cap %v", got, maxPaceInterval)
	}
	off := pacer{}
	off.wrote(&ws[0], now)
	if got := off.interval(); got != 0 {
		t.Fatalf("no budget: interval %v, want 0", got)
	}
}

func TestJitteredStaysWithinATenth(t *testing.T) {
	d := 400 * time.Millisecond
	lo, hi := d, time.Duration(0)
	for range 10000 {
		j := jittered(d)
		lo, hi = min(lo, j), max(hi, j)
	}
	if lo < 360*time.Millisecond || hi > 440*time.Millisecond {
		t.Fatalf("jittered(400ms) ranged %v..%v, want within 360ms..440ms", lo, hi)
	}
	if hi-lo < 60*time.Millisecond {
		t.Fatalf("jittered(400ms) ranged only %v..%v: not spread", lo, hi)
	}
}

func TestSubscriptionCountsByCollection(t *testing.T) {
	var o outbox
	history := core.NewBaseCollection("ticketHistory")
	history.Id = "pbc_history"
	tickets := core.NewBaseCollection("tickets")
	tickets.Id = "pbc_tickets"

	a, b := subscriptions.NewDefaultClient(), subscriptions.NewDefaultClient()
	a.Subscribe("tickets/*", "adminsRoom")
	qa := o.attach(a)
	qb := o.attach(b)
	if !o.topics.heard(tickets) || o.topics.heard(history) {
		t.Fatal("after a's tickets/* only tickets are heard")
	}
	b.Subscribe(`pbc_history/*?options={"query":{"fields":"id"}}`)
	o.setSubscriptions(qb, b.Subscriptions())
	if !o.topics.heard(history) {
		t.Fatal("a subscription by the collection's id is not counted")
	}
	o.detach(b, qb)
	if o.topics.heard(history) || !o.topics.heard(tickets) {
		t.Fatal("after b left, its subscription still counts (or a's is gone)")
	}
	o.detach(a, qa)
	if len(o.topics.n) != 0 || o.attaches.Load() != 0 {
		t.Fatalf("after everyone left: counts %v, %d attached", o.topics.n, o.attaches.Load())
	}
}
