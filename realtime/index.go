package realtime

import (
	"sync"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"ticketportal/policy"
)

// Subscribers indexed by what they can hear, so that a ticket or message
// event visits only the clients that may hear it: the agents (admins,
// superAdmins, operators), the one customer the ticket belongs to, and the
// rest (guests and accounts the policy does not know, which the policy
// refuses; visited so that nothing is missed). With 9,000 customers
// subscribed, an event for one customer's ticket visits that customer's
// connections, not 9,000 clients.
//
// A client's class comes from its auth and is worked out when the auth
// changes, not per message. PocketBase only lets a connection's auth
// change from guest to an account (a subscription request, indexed before
// PocketBase stores the auth, so no event in between misses it), from an
// account to its updated record (same id; re-indexed after the update) or
// to guest (the account deleted or its token key changed; re-indexed after
// the write). Between such a change and the re-indexing the client is in
// its old class, which can only be wider than its new one, and the fan-out
// checks each visited client's current auth anyway.
//
// Clients enter when PocketBase sends them PB_CONNECT (they are registered
// by then) and leave when their connection ends. A client registered in
// the broker some other way (tests) is found by a resync: whenever the
// index and the broker count different clients, the broker's clients are
// indexed again from scratch (one walk, as every event did before).
type subscriberIndex struct {
	mu      sync.RWMutex
	entries map[subscriptions.Client]indexEntry
	classes map[string]map[subscriptions.Client]struct{}

	// queueOf is a client's attached queue (nil: none), kept in its entry
	// so that a fan-out does not look it up per event
	queueOf func(subscriptions.Client) *queue
}

// indexEntry is a client's class and the auth it was worked out from,
// with what the messages' encoding depends on (see messageKey).
type indexEntry struct {
	class            string
	auth             *core.Record
	superuser, staff bool
	q                *queue // the client's attached queue, if any
}

func newIndexEntry(class string, auth *core.Record) indexEntry {
	superuser := auth != nil && auth.IsSuperuser()
	return indexEntry{class: class, auth: auth, superuser: superuser, staff: superuser || policy.IsStaff(auth)}
}

// The classes of clients; a customer's class is customerClass + its id.
const (
	operatorsClass   = "operators"
	superAdminsClass = "superAdmins"
	adminsClass      = "admins"
	othersClass      = "others"
	customerClass    = "customer/"
)

// classOf is the class of a client authenticated as auth (nil: guest).
func classOf(auth *core.Record) string {
	switch policy.RoleOf(auth) {
	case policy.RoleOperator:
		return operatorsClass
	case policy.RoleSuperAdmin:
		return superAdminsClass
	case policy.RoleAdmin:
		return adminsClass
	case policy.RoleUser:
		return customerClass + auth.Id
	}
	return othersClass
}

// put indexes c under auth (replacing its earlier class).
func (x *subscriberIndex) put(c subscriptions.Client, auth *core.Record) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.putLocked(c, auth)
}

func (x *subscriberIndex) putLocked(c subscriptions.Client, auth *core.Record) {
	if x.entries == nil {
		x.entries = map[subscriptions.Client]indexEntry{}
		x.classes = map[string]map[subscriptions.Client]struct{}{}
	}
	class := classOf(auth)
	entry := newIndexEntry(class, auth)
	if x.queueOf != nil {
		entry.q = x.queueOf(c)
	}
	if old, ok := x.entries[c]; ok {
		if old.class == class {
			x.entries[c] = entry
			return
		}
		x.removeLocked(c)
	}
	x.entries[c] = entry
	members := x.classes[class]
	if members == nil {
		members = map[subscriptions.Client]struct{}{}
		x.classes[class] = members
	}
	members[c] = struct{}{}
}

// remove forgets c.
func (x *subscriberIndex) remove(c subscriptions.Client) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(c)
}

func (x *subscriberIndex) removeLocked(c subscriptions.Client) {
	e, ok := x.entries[c]
	if !ok {
		return
	}
	delete(x.entries, c)
	if members := x.classes[e.class]; members != nil {
		delete(members, c)
		if len(members) == 0 {
			delete(x.classes, e.class)
		}
	}
}

// refresh re-indexes the clients of the given classes whose auth is no
// longer the one they were indexed with (after an account's update or
// delete).
func (x *subscriberIndex) refresh(classes ...string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var changed []subscriptions.Client
	for _, class := range classes {
		for c := range x.classes[class] {
			if clientAuth(c) != x.entries[c].auth {
				changed = append(changed, c)
			}
		}
	}
	for _, c := range changed {
		x.putLocked(c, clientAuth(c))
	}
}

// size is how many clients are indexed.
func (x *subscriberIndex) size() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries)
}

// resync indexes exactly the broker's clients.
func (x *subscriberIndex) resync(broker *subscriptions.Broker) {
	clients := broker.Clients()
	x.mu.Lock()
	defer x.mu.Unlock()
	for c := range x.entries {
		if cur, ok := clients[c.Id()]; !ok || cur != c {
			x.removeLocked(c)
		}
	}
	for _, c := range clients {
		if e, ok := x.entries[c]; !ok || e.auth != clientAuth(c) {
			x.putLocked(c, clientAuth(c))
		}
	}
}

// member is a client listed by audience, with the auth it has now and
// whether its class's members (all alike for the policy) may hear the
// event: known tells the class is one of those, visible its answer.
type member struct {
	client           subscriptions.Client
	auth             *core.Record
	known            bool
	visible          bool
	superuser, staff bool   // of auth
	q                *queue // the client's attached queue, if the index knows it
}

// memberOf is a client's member with its auth as it is now.
func memberOf(c subscriptions.Client, auth *core.Record) member {
	e := newIndexEntry("", auth)
	return member{client: c, auth: auth, superuser: e.superuser, staff: e.staff}
}

// audience lists the clients that may hear an event about a ticket of
// customerId (known: false when the ticket could not be read, so only the
// agents and others are listed), after a resync if the index and the
// broker disagree. visible decides a class by one of its members (all
// members of a class but others are alike for the policy); the members of
// a class that may not hear the event are left out. A listed client whose
// auth changed since it was indexed is re-indexed on the way and decided
// on its own.
func (x *subscriberIndex) audience(broker *subscriptions.Broker, customerId string, known bool, visible func(*core.Record) bool) []member {
	if x.size() != broker.TotalClients() {
		x.resync(broker)
	}
	classes := []string{operatorsClass, superAdminsClass, adminsClass, othersClass}
	if known && customerId != "" {
		classes = append(classes, customerClass+customerId)
	}
	var stale []subscriptions.Client
	x.mu.RLock()
	size := 0
	for _, class := range classes {
		size += len(x.classes[class])
	}
	out := make([]member, 0, size)
	for _, class := range classes {
		members := x.classes[class]
		if len(members) == 0 {
			continue
		}
		alike, hears := class != othersClass, false
		if alike {
			for c := range members {
				hears = visible(x.entries[c].auth)
				break
			}
		}
		for c := range members {
			entry := x.entries[c]
			if now := clientAuth(c); now != entry.auth {
				stale = append(stale, c)
				out = append(out, memberOf(c, now))
				continue
			}
			if !alike {
				out = append(out, member{client: c, auth: entry.auth, superuser: entry.superuser, staff: entry.staff, q: entry.q})
			} else if hears {
				out = append(out, member{client: c, auth: entry.auth, known: true, visible: true, superuser: entry.superuser, staff: entry.staff, q: entry.q})
			}
		}
	}
	x.mu.RUnlock()
	if len(stale) > 0 {
		// a client whose auth changed without passing through the portal's
		// hooks (a test setting it)
		x.mu.Lock()
		for _, c := range stale {
			if _, ok := x.entries[c]; ok {
				x.putLocked(c, clientAuth(c))
			}
		}
		x.mu.Unlock()
	}
	return out
}

// bindSubscriberIndex keeps rt.index up to date.
func (rt *engine) bindSubscriberIndex() {
	app := rt.app

	// in when it hears PB_CONNECT (registered by then), out when it ends
	app.OnRealtimeConnectRequest().BindFunc(func(e *core.RealtimeConnectRequestEvent) error {
		defer rt.index.remove(e.Client)
		return e.Next()
	})
	app.OnRealtimeMessageSend().BindFunc(func(e *core.RealtimeMessageEvent) error {
		if e.Message != nil && e.Message.Name == "PB_CONNECT" {
			rt.index.put(e.Client, clientAuth(e.Client))
		}
		return e.Next()
	})

	// a subscription request: indexed under its new auth before PocketBase
	// stores it (so it misses no event sent meanwhile), then under the auth
	// the client ended with (the old one if the request failed)
	app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		if e.Auth != nil {
			rt.index.put(e.Client, e.Auth)
		}
		err := e.Next()
		rt.index.put(e.Client, clientAuth(e.Client))
		return err
	})

	// an account's update or delete: PocketBase replaces or clears its
	// connections' auth (its handlers run within e.Next())
	refresh := func(e *core.ModelEvent) {
		r, ok := e.Model.(*core.Record)
		if !ok {
			return
		}
		if r.Collection().Name == policy.Users {
			rt.index.refresh(customerClass + r.Id)
		} else {
			rt.index.refresh(operatorsClass, superAdminsClass, adminsClass, othersClass)
		}
	}
	authCollections := []string{policy.Users, policy.Admins, core.CollectionNameSuperusers}
	app.OnModelAfterUpdateSuccess(authCollections...).BindFunc(func(e *core.ModelEvent) error {
		err := e.Next()
		refresh(e)
		return err
	})
	app.OnModelAfterDeleteSuccess(authCollections...).BindFunc(func(e *core.ModelEvent) error {
		err := e.Next()
		refresh(e)
		return err
	})

	// a change of a collection (its token options, say) clears the auth of
	// all its connections
	app.OnCollectionAfterUpdateSuccess().BindFunc(func(e *core.CollectionEvent) error {
		err := e.Next()
		rt.index.resync(app.SubscriptionsBroker())
		return err
	})
	app.OnCollectionAfterDeleteSuccess().BindFunc(func(e *core.CollectionEvent) error {
		err := e.Next()
		rt.index.resync(app.SubscriptionsBroker())
		return err
	})
}
