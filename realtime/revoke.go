package realtime

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"ticketportal/policy"
)

// Revocation before side effects: an agent that is deleted or changes role
// loses its realtime connections before the write does anything else, so
// that it hears nothing of what the write changes (the tickets a deleted
// agent held go back to the queue in the same transaction, and their
// update events must not reach it). PocketBase itself only clears the
// connections' auth after the commit, after those events are on their way.
//
// The hooks run first in the admins' model delete/update chains (priority
// -1000, before PocketBase's record proxies at -99 and every record hook),
// so before the record is deleted or saved. Until the write ends the
// account may not subscribe again; after a delete it stays refused for
// revokedFor, in case a token of it is still being checked.

const revokedFor = time.Minute

func (rt *engine) bindRevocation() {
	first := func(f func(*core.ModelEvent) error) *hook.Handler[*core.ModelEvent] {
		return &hook.Handler[*core.ModelEvent]{Priority: -1000, Func: f}
	}

	rt.app.OnModelDelete(policy.Admins).Bind(first(func(e *core.ModelEvent) error {
		id, _ := e.Model.PK().(string)
		rt.revoked.add(id, 0)
		rt.cutAccount(id)
		err := e.Next()
		if err != nil {
			rt.revoked.remove(id)
		} else {
			rt.revoked.add(id, revokedFor)
		}
		return err
	}))

	rt.app.OnModelUpdate(policy.Admins).Bind(first(func(e *core.ModelEvent) error {
		record, ok := e.Model.(*core.Record)
		if !ok || record.Original().GetString("role") == record.GetString("role") {
			return e.Next()
		}
		rt.revoked.add(record.Id, 0)
		rt.cutAccount(record.Id)
		defer rt.revoked.remove(record.Id)
		return e.Next()
	}))
}

// cutAccount closes every realtime connection authenticated as agent id.
func (rt *engine) cutAccount(id string) {
	for _, c := range rt.app.SubscriptionsBroker().Clients() {
		if a := clientAuth(c); a != nil && a.Id == id && a.Collection().Name == policy.Admins {
			rt.cut(c)
			counts.cutRevoked.Add(1)
		}
	}
}

// revokedSet holds the ids of agents that may not subscribe: while their
// delete or role change runs (no expiry), and a while after a delete.
type revokedSet struct {
	n  atomic.Int32 // len(m), read without the lock by has
	mu sync.Mutex
	m  map[string]time.Time // id -> until (zero: until removed)
}

func (s *revokedSet) add(id string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]time.Time{}
	}
	now := time.Now()
	for k, until := range s.m { // forget the expired ones
		if !until.IsZero() && now.After(until) {
			delete(s.m, k)
		}
	}
	var until time.Time
	if d > 0 {
		until = now.Add(d)
	}
	s.m[id] = until
	s.n.Store(int32(len(s.m)))
}

func (s *revokedSet) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	s.n.Store(int32(len(s.m)))
}

func (s *revokedSet) has(id string) bool {
	if s.n.Load() == 0 { // the common case, asked once per client and event
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.m[id]
	return ok && (until.IsZero() || time.Now().Before(until))
}
