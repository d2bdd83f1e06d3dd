// Package realtime is the portal's realtime engine: the admin room, the
// record events of tickets and messages fanned out off the request path to
// the subscribers indexed by what they may hear, each client's bounded
// queue and writer, and the bounds that keep any client from degrading the
// service (docs/realtime.md).
package realtime

import (
	"encoding/json/v2"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"ticketportal/policy"
	"ticketportal/store"
)

// AdminsRoom is the realtime topic of the admin room: the original's
// socket.io room, where agents hear every ticket being marked.
const AdminsRoom = "adminsRoom"

// Marked is the message the admin room gets when a ticket is marked.
type Marked struct {
	Event        string `json:"event"` // always "marked"
	TicketId     string `json:"ticketId"`
	TicketStatus string `json:"ticketStatus"` // "taken", "closed", "high priority", "released", "reopened" or "assigned"
	By           string `json:"by"`           // the marking account's id
}

// engine sends the portal's realtime messages. Its dispatcher does the
// work of a broadcast (finding the clients that may hear it) one event at a
// time, in the order of the writes, on its own goroutine; its outbox hands
// each client its messages in that order without letting one slow client
// hold up the others. See records.go for the record events.
type engine struct {
	app        core.App
	dispatcher serial
	out        outbox
	deletes    pendingDeletes
	limits     Limits
	revoked    revokedSet
	conns      connCounts
	index      subscriberIndex
	pace       pacer
	flusher    *flusher
}

func Register(app core.App) {
	limits, err := limitsFromEnv()
	if err != nil {
		// a misconfigured bound must not go unnoticed: refuse to start
		app.OnBootstrap().BindFunc(func(e *core.BootstrapEvent) error { return err })
	}
	bindBenchSwitches(app)
	rt := &engine{app: app, limits: limits}
	rt.pace.budget = int64(limits.WritesPerSecond)
	rt.flusher = newFlusher(&rt.pace)
	rt.out.flusher = rt.flusher
	rt.out.maxMessages, rt.out.maxBytes, rt.out.full = limits.QueuedMessages, limits.QueuedBytes, rt.cut
	rt.index.queueOf = rt.out.attached
	rt.bindRevocation()
	rt.bindLimits()
	rt.bindSubscriberIndex()
	rt.bindConnections()
	app.Store().Set(storeKey, rt)

	// Only agents (admins, superAdmins and operators) may join the admin
	// room; a request that asks for it on anyone else's behalf is refused
	// whole.
	app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		for _, sub := range e.Subscriptions {
			if topicOf(sub) == AdminsRoom && !policy.Can(e.Auth, policy.JoinAdminsRoom) {
				return e.ForbiddenError("Only admins and superAdmins may join the admins room.", nil)
			}
		}
		return e.Next()
	})

	// A mark made through PocketBase's record API (the dashboard included)
	// records who made it, as the ticket routes do.
	app.OnRecordUpdateRequest(policy.Tickets).BindFunc(func(e *core.RecordRequestEvent) error {
		if e.Auth != nil && len(marksOf(e.Record.Original(), e.Record)) > 0 {
			e.Record.Set("markedBy", e.Auth.Id)
		}
		return e.Next()
	})

	// Every mark of a ticket, whatever path saved it, is announced in the
	// admin room, after the ticket's own update event.
	app.OnRecordAfterUpdateSuccess(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		err := e.Next()
		for _, m := range marksOf(e.Record.Original(), e.Record) {
			rt.announce(markedMessage(e.Record, m))
		}
		return err
	})

	rt.takeOverRecordEvents()
	rt.quietUnheard()
}

// marksOf lists the marks that turned ticket `before` into `after`, in the
// order reopen, take/release/assign, close, prioritize.
func marksOf(before, after *core.Record) []store.Mark {
	var marks []store.Mark
	reopened := after.GetString("ticketStatus") == policy.StatusActive && before.GetString("ticketStatus") == policy.StatusClosed
	if reopened {
		marks = append(marks, store.Reopen)
	}
	switch holder, was := after.GetString("takenBy"), before.GetString("takenBy"); {
	case holder == was:
	case holder == "":
		if !reopened { // reopening frees the ticket; that is not a release
			marks = append(marks, store.Release)
		}
	case holder == after.GetString("markedBy") || after.GetString("markedBy") == "":
		marks = append(marks, store.Take) // by the new holder (or a path that names nobody)
	default:
		marks = append(marks, store.Assign)
	}
	if after.GetString("ticketStatus") == policy.StatusClosed && before.GetString("ticketStatus") != policy.StatusClosed {
		marks = append(marks, store.Close)
	}
	if after.GetBool("isHighPriority") && !before.GetBool("isHighPriority") {
		marks = append(marks, store.Prioritize)
	}
	return marks
}

// markedMessage is the admin room's message about mark m of ticket t. The
// marker is markedBy; for a take saved by a path that left markedBy alone,
// it is the new holder.
func markedMessage(t *core.Record, m store.Mark) Marked {
	by := t.GetString("markedBy")
	if m == store.Take && (by == "" || by == t.Original().GetString("markedBy")) {
		by = t.GetString("takenBy")
	}
	return Marked{Event: "marked", TicketId: t.Id, TicketStatus: string(m), By: by}
}

// announce sends msg to everyone in the admin room, off the request path:
// the message is built once, and the dispatcher hands it to each member's
// outbox.
func (rt *engine) announce(msg any) {
	if rt.app.SubscriptionsBroker().TotalClients() == 0 {
		return // nobody to tell
	}
	data, err := json.Marshal(msg)
	if err != nil {
		rt.app.Logger().Error("admin room message not encoded", "error", err)
		return
	}
	rt.dispatcher.run(func() {
		for _, c := range rt.app.SubscriptionsBroker().Clients() {
			subs := c.Subscriptions(AdminsRoom + "?")
			if len(subs) == 0 || !inAdminsRoom(c) || rt.revoked.has(clientAuth(c).Id) {
				continue
			}
			for sub := range subs {
				rt.out.post(c, delivery{msg: subscriptions.Message{Name: sub, Data: data}, stillAllowed: inAdminsRoom})
			}
		}
	})
}

// inAdminsRoom re-checks the client's stored auth: PocketBase clears it when
// the account is deleted or its tokenKey changes (a new password), and
// replaces it when the account is updated otherwise.
func inAdminsRoom(c subscriptions.Client) bool {
	return policy.Can(clientAuth(c), policy.JoinAdminsRoom)
}

// clientAuth is the account a realtime client subscribed with (nil: guest).
func clientAuth(c subscriptions.Client) *core.Record {
	auth, _ := c.Get(apis.RealtimeClientAuthKey).(*core.Record)
	return auth
}

// topicOf strips a subscription's options ("topic?options=...").
func topicOf(sub string) string {
	topic, _, _ := strings.Cut(sub, "?")
	return topic
}
