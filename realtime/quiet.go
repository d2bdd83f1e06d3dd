package realtime

import (
	"strings"
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"ticketportal/policy"
)

// PocketBase's broadcaster handles every create, update and delete of every
// collection: it asks each connected client for its subscriptions to the
// record, in the request that wrote it. A new ticket also writes its
// history line, its report counters, its search rows and its mail, which
// nobody subscribes to; with 5,000 clients that was 5,000 look-ups per
// write, a tenth of the server's CPU.
//
// The engine counts the subscriptions of the connections it serves by
// collection (the topic's first segment: a name or an id). A record of a
// collection no client subscribes to is written with the clients hidden
// from PocketBase's broadcaster (quietApp), as the tickets' and messages'
// events are. The hiding is skipped whenever the broker holds a client the
// engine does not serve (its subscriptions are not counted), and never
// applies to auth collections, whose updates PocketBase also uses to
// refresh the connections' auth.

// topicCounts counts subscriptions by collection.
type topicCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// collectionOf is the collection part of a topic: "tickets/*" -> "tickets".
func collectionOf(topic string) string {
	c, _, _ := strings.Cut(topic, "/")
	return c
}

func (t *topicCounts) addLocked(subs []subscription, delta int) {
	if t.n == nil {
		t.n = map[string]int{}
	}
	for _, s := range subs {
		c := collectionOf(s.topic)
		if t.n[c] += delta; t.n[c] <= 0 {
			delete(t.n, c)
		}
	}
}

// heard tells whether some subscription names collection c (by name or id).
func (t *topicCounts) heard(c *core.Collection) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n[c.Name] > 0 || t.n[c.Id] > 0
}

// unheard tells that no client may hear a record of collection c.
func (rt *engine) unheard(c *core.Collection) bool {
	if c.IsAuth() {
		return false
	}
	if int64(rt.app.SubscriptionsBroker().TotalClients()) > rt.out.attaches.Load() {
		return false // a client whose subscriptions are not counted
	}
	return !rt.out.topics.heard(c)
}

// quietUnheard binds the hiding for every collection but the two whose
// events the engine sends itself. The handlers run before PocketBase's
// (same priority, bound earlier).
func (rt *engine) quietUnheard() {
	quietIfUnheard := func(e *core.ModelEvent) error {
		record, ok := e.Model.(*core.Record)
		if !ok || pocketBaseBroadcasts.Load() {
			return e.Next()
		}
		switch record.Collection().Name {
		case policy.Tickets, policy.Messages:
			return e.Next() // takeOverRecordEvents
		}
		if !rt.unheard(record.Collection()) {
			return e.Next()
		}
		return quietly(e)
	}
	rt.app.OnModelAfterCreateSuccess().Bind(&hook.Handler[*core.ModelEvent]{Priority: -99, Func: quietIfUnheard})
	rt.app.OnModelAfterUpdateSuccess().Bind(&hook.Handler[*core.ModelEvent]{Priority: -99, Func: quietIfUnheard})
	rt.app.OnModelDelete().Bind(&hook.Handler[*core.ModelEvent]{Priority: 99, Func: quietIfUnheard})
}
