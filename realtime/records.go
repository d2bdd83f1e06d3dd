package realtime

import (
	"encoding/json/v2"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/picker"
	"github.com/pocketbase/pocketbase/tools/search"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"ticketportal/policy"
)

// Record events of tickets and answers, off the request path.
//
// PocketBase broadcasts a record's create/update/delete from model hooks
// that run inside the request that saved it (apis/realtime.go): for every
// subscribed client it checks the collection's List/View rule with a query,
// enriches the record and encodes it. With 1000 subscribed admins that made
// a ticket update take 120 to 450 ms instead of 1 to 2 ms (2 cores, idle to
// busy; BenchmarkTicketWriteWithSubscribers). For tickets and
// answers the portal does the same work on its dispatcher instead: the same
// topics, the same collection rules (decided by policy.TicketVisible while
// they are the policy's own, see event.go; else through
// app.CanAccessRecord), the same
// client-side filter, enrich hooks, expand and fields options, the same
// message; each client gets the events in the order of the writes.
//
// PocketBase's handlers stay bound (they are bound by apis.NewRouter with
// generated ids), but for these two collections they see the app through
// quietApp, which has no realtime clients, so they send nothing.
//
// Two differences from PocketBase's broadcaster: a create or update is
// checked against the database as it is when the dispatcher gets to it
// (normally a moment after the write), and a client whose auth changed
// between the check and the send is skipped. A delete is checked before
// the record goes, as PocketBase does, so that check stays on the request
// path; its messages are queued behind the earlier events.

// quietApp is the app as PocketBase's own record broadcaster sees it while
// a ticket or answer is written: without realtime clients.
type quietApp struct{ core.App }

var noClients = subscriptions.NewBroker()

func (quietApp) SubscriptionsBroker() *subscriptions.Broker { return noClients }

// fanOutWorkers is how many goroutines check the clients of one event: all
// cores but one, which is left to the requests. (On 2 cores one worker
// reached 1000 clients no later than PocketBase's 7 parallel chunks did,
// and kept the requests that ran meanwhile at a few ms instead of 25-35.)
func fanOutWorkers() int {
	return max(1, runtime.GOMAXPROCS(0)-1)
}

// pocketBaseBroadcasts leaves the tickets' and answers' events to
// PocketBase's own broadcaster (benchmarks measure it side by side).
var pocketBaseBroadcasts atomic.Bool

func (rt *engine) takeOverRecordEvents() {
	collections := []string{policy.Tickets, policy.Messages}

	// Priority -99, bound before apis.NewRouter binds PocketBase's
	// broadcasters at the same priority: these handlers run first and hide
	// the clients from them. (PocketBase's record hooks proxy, also -99, is
	// bound when the app is made, so the OnRecord* hooks still see the real
	// app.)
	for action, h := range map[string]*hook.TaggedHook[*core.ModelEvent]{
		"create": rt.app.OnModelAfterCreateSuccess(collections...),
		"update": rt.app.OnModelAfterUpdateSuccess(collections...),
	} {
		h.Bind(&hook.Handler[*core.ModelEvent]{
			Priority: -99,
			Func: func(e *core.ModelEvent) error {
				record, ok := e.Model.(*core.Record)
				if !ok || pocketBaseBroadcasts.Load() {
					return e.Next()
				}
				if rt.app.SubscriptionsBroker().TotalClients() > 0 { // else nobody to tell
					snapshot := record.Fresh()
					rt.dispatcher.run(func() { rt.fanOutEvent(action, newEvent(rt.app, snapshot), allSubscriptions, rt.out.postTo) })
				}
				return quietly(e)
			},
		})
	}

	// A delete is fanned out from what is captured while the record still
	// exists: the record and the ticket it belongs to. Only subscriptions
	// with their own filter (which is a query on the record) are checked on
	// the request path; the rest, after the commit, on the dispatcher. The
	// messages are sent once the delete is committed (PocketBase's delete
	// handler runs at priority 99 too, bound later).
	rt.app.OnModelDelete(collections...).Bind(&hook.Handler[*core.ModelEvent]{
		Priority: 99,
		Func: func(e *core.ModelEvent) error {
			record, ok := e.Model.(*core.Record)
			if pocketBaseBroadcasts.Load() {
				return e.Next()
			}
			if !ok || rt.app.SubscriptionsBroker().TotalClients() == 0 {
				return quietly(e)
			}
			ev := newEvent(rt.app, record.Fresh())
			ev.ticket() // read while it exists
			var mu sync.Mutex
			var filtered []addressed
			rt.fanOutEvent("delete", ev, onlyFiltered, func(c subscriptions.Client, q *queue, d delivery) {
				mu.Lock()
				filtered = append(filtered, addressed{c, q, d})
				mu.Unlock()
			})
			rt.deletes.keep(deleteKey(record), pendingDelete{event: ev, filtered: filtered})
			return quietly(e)
		},
	})
	rt.app.OnModelAfterDeleteSuccess(collections...).BindFunc(func(e *core.ModelEvent) error {
		if p, ok := rt.deletes.take(deleteKey(e.Model)); ok {
			rt.dispatcher.run(func() {
				for _, f := range p.filtered {
					rt.out.postTo(f.client, f.q, f.delivery)
				}
				rt.fanOutEvent("delete", p.event, onlyUnfiltered, rt.out.postTo)
			})
		}
		return e.Next()
	})
	rt.app.OnModelAfterDeleteError(collections...).BindFunc(func(e *core.ModelErrorEvent) error {
		rt.deletes.take(deleteKey(e.Model))
		return e.Next()
	})
}

// quietly runs the rest of e's hook chain with the realtime clients hidden.
func quietly(e *core.ModelEvent) error {
	app := e.App
	e.App = quietApp{app}
	err := e.Next()
	e.App = app
	return err
}

// which subscriptions a fan-out looks at: those with a filter of their own
// are checked against the database, so a delete checks them before the
// record goes.
type fanOutPart int

const (
	allSubscriptions fanOutPart = iota
	onlyFiltered
	onlyUnfiltered
)

// fanOutEvent finds every subscription that may hear the event and hands
// its message to emit: PocketBase's own algorithm, with shortcuts that give
// the same answers (see toClient). It returns when all clients are
// checked, so that one client's messages keep the order of the events.
func (rt *engine) fanOutEvent(action string, ev *event, part fanOutPart, emit func(subscriptions.Client, *queue, delivery)) {
	record := ev.record
	c := record.Collection()
	topics := []topicRule{ // the topics that hear the record, with the rule that filters each
		{c.Name + "/" + record.Id, c.ViewRule},
		{c.Id + "/" + record.Id, c.ViewRule},
		{c.Name + "/*", c.ListRule},
		{c.Id + "/*", c.ListRule},
		{c.Name, c.ListRule}, // deprecated alias of name/*
		{c.Id, c.ListRule},
	}
	clients := rt.audience(ev)
	if len(clients) == 0 {
		return
	}
	// contiguous parts, one per worker (each client is in one part, and
	// the next event waits for all of them, so each client's order holds)
	workers := min(fanOutWorkers(), len(clients))
	parts := make([][]member, workers)
	for i := range parts {
		parts[i] = clients[i*len(clients)/workers : (i+1)*len(clients)/workers]
	}
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Go(func() {
			var subs []subscription
			for _, m := range p {
				safely(func() { subs = rt.toClient(m, action, ev, topics, part, emit, subs[:0]) })
			}
		})
	}
	wg.Wait()
}

// topicRule is a topic that hears a record, and the collection rule that
// decides who may hear it.
type topicRule struct {
	topic string
	rule  *string
}

// subscriptionsFor lists (into buf) the subscriptions of client c to one of
// topics: from the snapshot of its connection (taken at each subscription
// request), or, for a client without one, from the client itself.
func (rt *engine) subscriptionsFor(c subscriptions.Client, q *queue, topics []topicRule, buf []subscription) []subscription {
	if q != nil {
		if subs := q.subs.Load(); subs != nil {
			for _, s := range *subs {
				if _, ok := ruleOf(s.topic, topics); ok {
					buf = append(buf, s)
				}
			}
			return buf
		}
	}
	prefixes := make([]string, len(topics))
	for i, t := range topics {
		prefixes[i] = t.topic + "?"
	}
	for name, options := range c.Subscriptions(prefixes...) {
		buf = append(buf, newSubscription(name, options))
	}
	return buf
}

// audience is the clients that may hear the event: while the policy
// decides both rules of its collection, the agents, the others and the
// ticket's customer (subscriberIndex, which decides each class once);
// else every client.
func (rt *engine) audience(ev *event) []member {
	broker := rt.app.SubscriptionsBroker()
	c := ev.record.Collection()
	if ev.policyDecides(c.ListRule) && ev.policyDecides(c.ViewRule) {
		state, ok := ev.ticket()
		return rt.index.audience(broker, state[0], ok, ev.visibleTo)
	}
	all := broker.Clients()
	out := make([]member, 0, len(all))
	for _, client := range all {
		out = append(out, memberOf(client, clientAuth(client)))
	}
	return out
}

// toClient hands client the event's messages for each of its subscriptions
// that may hear it. Shortcuts, each giving PocketBase's answer: a client
// the policy's rules refuse the record is skipped without looking at its
// subscriptions; a subscription without options of its own (but fields)
// is decided by the client's auth alone and gets the message encoded once
// for its kind of subscriber; only the others are seen as a request.
//
// A member whose class the index decided (m.known) is not asked again. It
// returns buf, reused for the next client.
func (rt *engine) toClient(m member, action string, ev *event, topics []topicRule, part fanOutPart, emit func(subscriptions.Client, *queue, delivery), buf []subscription) []subscription {
	client, auth := m.client, m.auth
	if auth != nil && rt.revoked.has(auth.Id) {
		return buf
	}
	if m.known && !m.visible || !m.known && ev.refusedByPolicy(auth) {
		return buf
	}
	record := ev.record
	var stillAllowed func(subscriptions.Client) bool
	q := m.q
	if q == nil {
		q = rt.out.attached(client)
	}
	buf = rt.subscriptionsFor(client, q, topics, buf)
	for _, s := range buf {
		rule, ok := ruleOf(s.topic, topics)
		if !ok {
			continue
		}
		if (part == onlyFiltered && s.plain) || (part == onlyUnfiltered && !s.plain) {
			continue
		}
		var data []byte
		var err error
		if s.plain && ev.policyDecides(rule) {
			if !(m.known && m.visible) && !ev.visibleTo(auth) {
				continue
			}
			data, err = ev.plainMessage(action, m, s.options)
		} else {
			e := subscriberRequest(rt.app, auth, s.options)
			info, ierr := e.RequestInfo()
			if ierr != nil || !ev.canHear(info, rule) {
				continue
			}
			data, err = ev.message(e, action, info)
		}
		if err != nil {
			rt.app.Logger().Debug("realtime record message not built", "id", record.Id, "sub", s.name, "error", err)
			continue
		}
		if stillAllowed == nil {
			stillAllowed = authUnchanged(auth)
		}
		d := delivery{msg: subscriptions.Message{Name: s.name, Data: data}, stillAllowed: stillAllowed}
		if action == "update" {
			d.key = updateKey{ev.key(), s.name}
		}
		emit(client, q, d)
	}
	clear(buf)
	return buf
}

// ruleOf is the rule of the topic that a subscription to topic hears.
func ruleOf(topic string, topics []topicRule) (*string, bool) {
	for _, t := range topics {
		if t.topic == topic {
			return t.rule, true
		}
	}
	return nil, false
}

// subscriberRequest stands for the client as a GET request with its
// subscription's query and headers, so that the rules and the enrich hooks
// see it as they would see a list request (context "realtime").
func subscriberRequest(app core.App, auth *core.Record, options subscriptions.SubscriptionOptions) *core.RequestEvent {
	query := url.Values{}
	for k, v := range options.Query {
		query.Set(k, v)
	}
	header := http.Header{}
	for k, v := range options.Headers {
		header[k] = []string{v}
	}
	e := &core.RequestEvent{App: app, Auth: auth}
	e.Request = &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/api/realtime", RawQuery: query.Encode()}, Header: header}
	e.Set(core.RequestEventKeyInfoContext, core.RequestInfoContextRealtime)
	return e
}

// canHear applies the collection rule and the subscription's own filter,
// as PocketBase's realtimeCanAccessRecord does.
func (ev *event) canHear(info *core.RequestInfo, rule *string) bool {
	app, record := ev.app, ev.record
	if !ev.allowed(info, rule) {
		return false
	}
	filter := info.Query[search.FilterQueryParam]
	if filter == "" {
		return true
	}
	if !info.HasSuperuserAuth() {
		for _, param := range []string{search.FilterQueryParam, search.SortQueryParam} {
			if v := info.Query[param]; strings.Contains(v, "@collection.") || strings.Contains(v, "@request.") {
				return false // only superusers may filter by these
			}
		}
	}
	c := record.Collection()
	q := app.ConcurrentDB().Select("(1)").From(c.Name).AndWhere(dbx.HashExp{c.Name + ".id": record.Id})
	resolver := core.NewRecordFieldResolver(app, c, info, false)
	expr, err := search.FilterData(filter).BuildExpr(resolver)
	if err != nil {
		return false
	}
	q.AndWhere(expr)
	if err := resolver.UpdateQuery(q); err != nil {
		return false
	}
	var exists int
	return q.Limit(1).Row(&exists) == nil && exists > 0
}

// message is recordMessage, built once per kind of subscriber when the
// message cannot depend on who the subscriber is: no expand (which applies
// the expanded collections' rules for each caller), so only superuser or
// not, staff or not (the tickets' enrich hook shows notes and staff-only
// fields to staff only) and the subscription's fields option shape it (the
// other options, such as a filter, decide whether the subscriber hears the
// event, not what it hears; keying on them let one client make the server
// encode a record once per subscription). An enrich hook that looks at
// anything else of the caller must key the message on it too.
func (ev *event) message(e *core.RequestEvent, action string, info *core.RequestInfo) ([]byte, error) {
	if info.Query["expand"] != "" {
		return recordMessage(e, action, ev.record, info)
	}
	key := messageKey(info.HasSuperuserAuth(), policy.StaffRequest(info), info.Query["fields"])
	if data, ok := ev.messages.Load(key); ok {
		return data.([]byte), nil
	}
	data, err := recordMessage(e, action, ev.record, info)
	if err == nil {
		ev.messages.Store(key, data)
	}
	return data, err
}

// plainMessage is message for a subscription with no options but fields:
// the request it stands for is only built when the message is not yet.
func (ev *event) plainMessage(action string, m member, options subscriptions.SubscriptionOptions) ([]byte, error) {
	if data, ok := ev.messages.Load(messageKey(m.superuser, m.staff, options.Query["fields"])); ok {
		return data.([]byte), nil
	}
	e := subscriberRequest(ev.app, m.auth, options)
	info, err := e.RequestInfo()
	if err != nil {
		return nil, err
	}
	return ev.message(e, action, info)
}

// msgKey names a kind of subscriber: what its message can depend on.
type msgKey struct {
	superuser, staff bool
	fields           string
}

func messageKey(superuser, staff bool, fields string) msgKey {
	return msgKey{superuser, staff, fields}
}

// recordMessage is the event's data as this subscriber gets it: a clean
// copy of the record, enriched like an API response (enrich hooks, expand),
// narrowed to the subscription's fields.
func recordMessage(e *core.RequestEvent, action string, record *core.Record, info *core.RequestInfo) ([]byte, error) {
	clean := record.Fresh()
	if info.HasSuperuserAuth() {
		clean.Unhide(clean.Collection().Fields.FieldNames()...)
	}
	if err := apis.EnrichRecord(e, clean); err != nil {
		return nil, err
	}
	var out any = clean
	if fields := info.Query["fields"]; fields != "" {
		if picked, err := picker.Pick(clean, fields); err == nil {
			out = picked
		}
	}
	return json.Marshal(struct {
		Record any    `json:"record"`
		Action string `json:"action"`
	}{out, action})
}

// authUnchanged is a send-time check: the client still has the auth its
// subscription was checked with (same account, token key and role).
func authUnchanged(checked *core.Record) func(subscriptions.Client) bool {
	return func(c subscriptions.Client) bool {
		now := clientAuth(c)
		if now == checked {
			return true // PocketBase replaces the record on every change
		}
		if now == nil || checked == nil {
			return now == checked
		}
		return now.Id == checked.Id &&
			now.Collection().Id == checked.Collection().Id &&
			now.TokenKey() == checked.TokenKey() &&
			now.GetString("role") == checked.GetString("role")
	}
}

// addressed is a delivery with its client.
type addressed struct {
	client subscriptions.Client
	q      *queue // its attached queue (nil: none, or not known)
	delivery
}

// pendingDelete is a delete not yet committed: the event captured before
// it, and the messages of the subscriptions with a filter.
type pendingDelete struct {
	event    *event
	filtered []addressed
}

// pendingDeletes keeps the deletes not yet committed.
type pendingDeletes struct {
	mu sync.Mutex
	m  map[string]pendingDelete
}

func (p *pendingDeletes) keep(key string, d pendingDelete) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]pendingDelete{}
	}
	p.m[key] = d
}

func (p *pendingDeletes) take(key string) (pendingDelete, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.m[key]
	delete(p.m, key)
	return d, ok
}

func deleteKey(m core.Model) string {
	id, _ := m.PK().(string)
	return m.TableName() + "/" + id
}
