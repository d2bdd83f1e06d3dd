// Package inbound receives mail for the portal: an SMTP receiver (serve --smtpListen) and an IMAP
// fetcher (PORTAL_IMAP_URL) store each raw message durably in the
// inboundMail collection, and one worker per app processes every stored
// message exactly once: it routes it to a ticket (signed reply address,
// In-Reply-To/References, "[#id]" subject) as a reply or a note, or opens a
// new ticket, in one transaction with the row's new state.
package inbound

import (
	"strings"
	"sync"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/prometheus/client_golang/prometheus"

	"ticketportal/metrics"
)

// Collection is the durable inbox.
const Collection = "inboundMail"

// States of an inbound mail.
const (
	StateStored    = "stored"
	StateProcessed = "processed"
	StateRefused   = "refused"
	StateIgnored   = "ignored"
)

// MaxBytes is the largest message accepted (SMTP answers 552 beyond it).
const MaxBytes = 25 << 20

var counter = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "ticketportal",
	Name:      "inbound_mails_total",
	Help:      "Inbound mails by what happened to them: stored (received and saved), duplicate (the same Message-ID again), processed (on a ticket), refused, ignored (automatic mail, bounces).",
}, []string{"result"})

func init() {
	for _, r := range []string{"stored", "duplicate", StateProcessed, StateRefused, StateIgnored} {
		counter.WithLabelValues(r)
	}
	_ = metrics.Add(counter)
}

// Store saves a raw message in the inbox (a committed, fsynced write: the
// data database runs with synchronous=FULL) and wakes the worker. The same
// Message-ID stored again changes nothing (duplicate is true).
//
// Concurrent calls (several SMTP connections) share a commit (at most 16 messages): the first
// caller writes every message queued meanwhile in one transaction (group
// commit, one fsync for all), and each returns once its message is
// committed.
func Store(app core.App, raw []byte, source, envelopeFrom string, recipients []string) (id string, duplicate bool, err error) {
	req := &storeReq{raw: raw, source: source, from: envelopeFrom, rcpts: recipients, done: make(chan storeRes, 1)}
	c := app.Store().GetOrSet(committerStoreKey, func() any { return &committer{} }).(*committer)
	c.mu.Lock()
	c.pending = append(c.pending, req)
	if c.running {
		c.mu.Unlock()
		r := <-req.done
		return r.id, r.duplicate, r.err
	}
	c.running = true
	c.mu.Unlock()
	for {
		c.mu.Lock()
		batch := c.pending
		if len(batch) > maxGroup {
			batch = batch[:maxGroup]
		}
		c.pending = c.pending[len(batch):]
		if len(batch) == 0 {
			c.running = false
			c.mu.Unlock()
			break
		}
		c.mu.Unlock()
		commitGroup(app, batch)
	}
	r := <-req.done
	return r.id, r.duplicate, r.err
}

const committerStoreKey = "ticketportal.inboundCommitter"

// maxGroup bounds the messages of one group commit (each up to 25 MiB).
const maxGroup = 16

type committer struct {
	mu      sync.Mutex
	pending []*storeReq
	running bool
}

type storeReq struct {
	raw      []byte
	source   string
	from     string
	rcpts    []string
	done     chan storeRes
	id       string
	inserted bool
}

type storeRes struct {
	id        string
	duplicate bool
	err       error
}

// commitGroup inserts the batch in one transaction; if that fails, each
// message alone, so that one bad message does not fail the others.
func commitGroup(app core.App, batch []*storeReq) {
	err := app.RunInTransaction(func(tx core.App) error {
		for _, r := range batch {
			if err := insertOne(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			commitGroup(app, []*storeReq{r})
		}
		return
	}
	stored := false
	for _, r := range batch {
		switch {
		case err != nil:
			r.done <- storeRes{err: err}
		case r.inserted:
			stored = true
			counter.WithLabelValues("stored").Inc()
			r.done <- storeRes{id: r.id}
		default:
			counter.WithLabelValues("duplicate").Inc()
			r.done <- storeRes{duplicate: true}
		}
	}
	if stored {
		workerOf(app).wakeUp()
	}
}

func insertOne(tx core.App, r *storeReq) error {
	messageId, from, subject := HeaderMessageId(r.raw)
	r.id = core.GenerateDefaultRandomId()
	now := types.NowDateTime().String()
	res, err := tx.DB().NewQuery(
		"INSERT INTO {{" + Collection + "}} ([[id]], [[messageId]], [[source]], [[envelopeFrom]], [[recipients]], [[sender]], [[subject]], [[raw]], [[state]], [[outcome]], [[detail]], [[ticket]], [[processedAt]], [[createdAt]], [[updatedAt]])" +
			" VALUES ({:id}, {:messageId}, {:source}, {:envelopeFrom}, {:recipients}, {:sender}, {:subject}, {:raw}, 'stored', '', '', '', '', {:now}, {:now})" +
			" ON CONFLICT DO NOTHING",
	).Bind(dbx.Params{
		"id": r.id, "messageId": messageId, "source": r.source, "envelopeFrom": cutStr(r.from, 1000),
		"recipients": cutStr(strings.Join(r.rcpts, ", "), 10000), "sender": cutStr(from, 1000),
		"subject": cutStr(strings.ToValidUTF8(subject, "?"), 1000), "raw": string(r.raw), "now": now,
	}).Execute()
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	r.inserted = n > 0
	return nil
}

func cutStr(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
