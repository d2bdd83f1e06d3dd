// Package inbound receives mail for the portal (SPEC.md Part 2, "Mail in
// both directions"): an SMTP receiver (serve --smtpListen) and an IMAP
// fetcher (PORTAL_IMAP_URL) store each raw message durably in the
// inboundMail collection, and one worker per app processes every stored
// message exactly once: it routes it to a ticket (signed reply address,
// In-Reply-To/References, "[#id]" subject) as a reply or a note, or opens a
// new ticket, in one transaction with the row's new state.
package inbound

import (
	"strings"

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
func Store(app core.App, raw []byte, source, envelopeFrom string, recipients []string) (id string, duplicate bool, err error) {
	messageId, from, subject := HeaderMessageId(raw)
	id = core.GenerateDefaultRandomId()
	now := types.NowDateTime().String()
	res, err := app.NonconcurrentDB().NewQuery(
		"INSERT INTO {{" + Collection + "}} ([[id]], [[messageId]], [[source]], [[envelopeFrom]], [[recipients]], [[sender]], [[subject]], [[raw]], [[state]], [[outcome]], [[detail]], [[ticket]], [[processedAt]], [[createdAt]], [[updatedAt]])" +
			" VALUES ({:id}, {:messageId}, {:source}, {:envelopeFrom}, {:recipients}, {:sender}, {:subject}, {:raw}, 'stored', '', '', '', '', {:now}, {:now})" +
			" ON CONFLICT DO NOTHING",
	).Bind(dbx.Params{
		"id": id, "messageId": messageId, "source": source, "envelopeFrom": cutStr(envelopeFrom, 1000),
		"recipients": cutStr(strings.Join(recipients, ", "), 10000), "sender": cutStr(from, 1000),
		"subject": cutStr(strings.ToValidUTF8(subject, "?"), 1000), "raw": string(raw), "now": now,
	}).Execute()
	if err != nil {
		return "", false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		counter.WithLabelValues("duplicate").Inc()
		return "", true, nil
	}
	counter.WithLabelValues("stored").Inc()
	workerOf(app).wakeUp()
	return id, false, nil
}

func cutStr(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
