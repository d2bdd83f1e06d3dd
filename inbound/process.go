package inbound

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/mail"
	"ticketportal/policy"
	"ticketportal/settings"
	"ticketportal/store"
)

// MaxNewTicketsPerHour bounds the tickets one sender opens by mail.
const MaxNewTicketsPerHour = 20

// maxBody is the longest message or ticket text (the messages' and
// tickets' field limit).
const maxBody = 10000

// Outcomes of a processed or refused mail.
const (
	OutcomeReply     = "reply"
	OutcomeFollowUp  = "followUp"
	OutcomeNote      = "note"
	OutcomeNewTicket = "newTicket"
	OutcomeBounce    = "bounce"
	OutcomeAutomatic = "automatic"
	OutcomeRefused   = "refused"
)

const workerStoreKey = "ticketportal.inboundWorker"

type worker struct {
	app  core.App
	wake chan struct{}
	mu   sync.Mutex
	busy sync.Mutex // one processing pass at a time
	stop chan struct{}
	done chan struct{}
}

func workerOf(app core.App) *worker {
	return app.Store().GetOrSet(workerStoreKey, func() any {
		return &worker{app: app, wake: make(chan struct{}, 1)}
	}).(*worker)
}

func (w *worker) wakeUp() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		return
	}
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go w.run(w.stop, w.done)
}

func (w *worker) halt() {
	w.mu.Lock()
	stop, done := w.stop, w.done
	w.stop, w.done = nil, nil
	w.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// run processes what is stored (also what an earlier run left: a crash
// between storing and processing loses nothing), then waits to be woken.
func (w *worker) run(stop, done chan struct{}) {
	defer close(done)
	for {
		w.pass(stop)
		t := time.NewTimer(30 * time.Second)
		select {
		case <-stop:
			t.Stop()
			return
		case <-w.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// pass processes every stored message, oldest first.
func (w *worker) pass(stop chan struct{}) {
	w.busy.Lock()
	defer w.busy.Unlock()
	if !w.app.IsBootstrapped() || !w.app.HasTable(Collection) {
		return
	}
	for {
		var ids []string
		err := w.app.ConcurrentDB().Select("id").From(Collection).Where(dbx.HashExp{"state": StateStored}).
			OrderBy("createdAt", "rowid").Limit(200).Column(&ids)
		if err != nil {
			w.app.Logger().Error("inbound mail: reading the inbox failed", "error", err)
			return
		}
		if len(ids) == 0 {
			return
		}
		progress := false
		for start := 0; start < len(ids); start += batchSize {
			if stop != nil {
				select {
				case <-stop:
					return
				default:
				}
			}
			chunk := ids[start:min(start+batchSize, len(ids))]
			if w.processBatch(chunk) {
				progress = true
				continue
			}
			// one of them failed: the batch rolled back; each alone now
			for _, id := range chunk {
				if w.processOne(id) {
					progress = true
				}
			}
		}
		if !progress {
			return
		}
	}
}

// batchSize is how many stored messages one transaction processes (group
// commit: one commit, one fsync, for all of them).
const batchSize = 16

// ProcessStored processes every stored message now, in the caller's
// goroutine (tests and the benchmark call it; the worker does the same).
func ProcessStored(app core.App) { workerOf(app).pass(nil) }

// result is the decision about one message.
type result struct {
	state, outcome, detail, ticket string
}

// processBatch processes stored messages in one transaction with their
// new states, so that each counts exactly once; on any error nothing of it
// happened and it returns false.
func (w *worker) processBatch(ids []string) bool {
	results := make([]result, 0, len(ids))
	err := w.app.RunInTransaction(func(tx core.App) error {
		results = results[:0]
		for _, id := range ids {
			res, err := processIn(tx, id)
			if err != nil {
				return err
			}
			results = append(results, res)
		}
		return nil
	})
	if err != nil {
		return false
	}
	for i, res := range results {
		w.record(ids[i], res)
	}
	return true
}

// processOne processes one stored message in one transaction with its new
// state. It says whether the row left the "stored" state.
func (w *worker) processOne(id string) bool {
	var res result
	err := w.app.RunInTransaction(func(tx core.App) error {
		var err error
		res, err = processIn(tx, id)
		return err
	})
	if err != nil {
		// the transaction rolled back: nothing of it happened; the row is
		// refused (outside it) so that a mail that cannot be processed does
		// not block the others. An operator can set it back to stored.
		w.app.Logger().Error("inbound mail: processing failed", "mail", id, "error", err)
		res = result{state: StateRefused, outcome: OutcomeRefused, detail: "processing failed: " + err.Error()}
		if err := setState(w.app, id, res); err != nil {
			w.app.Logger().Error("inbound mail: recording a failure failed", "mail", id, "error", err)
			return false
		}
	}
	w.record(id, res)
	return true
}

// processIn routes one stored message and sets its state, inside tx.
func processIn(tx core.App, id string) (result, error) {
	var row struct {
		State        string `db:"state"`
		Raw          string `db:"raw"`
		Source       string `db:"source"`
		EnvelopeFrom string `db:"envelopeFrom"`
		Recipients   string `db:"recipients"`
	}
	err := tx.DB().Select("state", "raw", "source", "envelopeFrom", "recipients").From(Collection).
		Where(dbx.HashExp{"id": id}).One(&row)
	if err != nil {
		return result{}, err
	}
	if row.State != StateStored {
		return result{}, nil // processed meanwhile (Flush and the worker)
	}
	res, err := route(tx, id, []byte(row.Raw), row.Source, row.EnvelopeFrom, splitList(row.Recipients))
	if err != nil {
		return result{}, err
	}
	return res, setState(tx, id, res)
}

// record counts and logs a committed result.
func (w *worker) record(id string, res result) {
	if res.state != "" {
		counter.WithLabelValues(res.state).Inc()
	}
	if res.state == StateRefused {
		w.app.Logger().Warn("inbound mail refused", "mail", id, "detail", res.detail)
	}
}

func setState(app core.App, id string, r result) error {
	now := types.NowDateTime().String()
	_, err := app.NonconcurrentDB().Update(Collection, dbx.Params{
		"state": r.state, "outcome": r.outcome, "detail": cutStr(r.detail, 2000), "ticket": r.ticket,
		"processedAt": now, "updatedAt": now,
	}, dbx.HashExp{"id": id}).Execute()
	return err
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

var subjectTag = regexp.MustCompile(`\[#([a-z0-9]{15})\]`)

func refused(why string) (result, error) {
	return result{state: StateRefused, outcome: OutcomeRefused, detail: why}, nil
}

// route decides where one message goes and writes it there, inside tx.
func route(tx core.App, id string, raw []byte, source, envelopeFrom string, rcpts []string) (result, error) {
	p, err := Parse(raw)
	if err != nil {
		return refused("the message cannot be read: " + err.Error())
	}
	if source == "imap" || len(rcpts) == 0 {
		rcpts = append(rcpts, p.Recipients...)
		if p.HasReturnPath {
			envelopeFrom = p.ReturnPath
		} else if envelopeFrom == "" {
			envelopeFrom = "unknown" // a mailbox without Return-Path: not a bounce by that sign
		}
	}

	// Bounces for our mails, then automatic mail.
	if p.IsReport || (envelopeFrom == "" && len(p.Bounced) > 0) {
		n, err := markBounced(tx, p.Bounced, p.Text)
		if err != nil {
			return result{}, err
		}
		return result{state: StateIgnored, outcome: OutcomeBounce, detail: fmt.Sprintf("a delivery report; %d of our mails marked failed", n)}, nil
	}
	switch {
	case envelopeFrom == "":
		return result{state: StateIgnored, outcome: OutcomeAutomatic, detail: "empty return path"}, nil
	case p.AutoSubmitted != "" && p.AutoSubmitted != "no":
		return result{state: StateIgnored, outcome: OutcomeAutomatic, detail: "Auto-Submitted: " + p.AutoSubmitted}, nil
	case p.Precedence == "bulk" || p.Precedence == "junk" || p.Precedence == "list":
		return result{state: StateIgnored, outcome: OutcomeAutomatic, detail: "Precedence: " + p.Precedence}, nil
	case p.From == "":
		return refused("no sender address")
	case ourOwn(tx, p.From):
		return result{state: StateIgnored, outcome: OutcomeAutomatic, detail: "sent by the portal's own address"}, nil
	}

	text := CutQuotes(p.Text)
	if r := []rune(text); len(r) > maxBody {
		text = string(r[:maxBody-20]) + "\n[… cut]"
	}

	// 1. a signed reply address
	ticketId, via, forged := "", "", false
	for _, r := range rcpts {
		switch kind, tid := mail.ParseRecipient(tx, r); kind {
		case mail.SignedValid:
			if ticketId == "" {
				ticketId, via = tid, "address"
			}
		case mail.SignedForged:
			forged = true
		}
	}
	// 2. In-Reply-To / References naming one of a ticket's mails
	if ticketId == "" {
		ids := append(append([]string{}, p.InReplyTo...), reversed(p.References)...)
		if t := ticketOfMessageIds(tx, ids); t != "" {
			ticketId, via = t, "thread"
		}
	}
	// 3. "[#id]" in the subject, from that ticket's customer
	if ticketId == "" {
		if m := subjectTag.FindStringSubmatch(p.Subject); m != nil {
			if t, err := tx.FindRecordById(policy.Tickets, m[1]); err == nil && customerEmail(tx, t) == p.From {
				ticketId, via = t.Id, "subject"
			}
		}
	}

	if ticketId != "" {
		t, err := tx.FindRecordById(policy.Tickets, ticketId)
		if err != nil {
			return refused("the ticket " + ticketId + " does not exist")
		}
		return onTicket(tx, id, p, t, via, text)
	}
	if forged {
		return refused("the reply address's signature is not valid")
	}
	return newTicket(tx, id, p, text)
}

// onTicket adds the mail to its ticket: a reply from the ticket's
// customer, a note from anyone else who wrote to the signed address.
func onTicket(tx core.App, id string, p *Parsed, t *core.Record, via, text string) (result, error) {
	files, text := mailFiles(tx, p, text)
	if strings.TrimSpace(text) == "" {
		if len(files) == 0 {
			return refused("no new text (only quoted text or a signature)")
		}
		text = "(Files only, no text.)"
	}
	if customerEmail(tx, t) == p.From {
		ticket, followUp, err := store.Reply(tx, t.Id, t.GetString("customerId"), text, settings.Get(tx).ReopenWindowDays, time.Now(), files...)
		if err != nil {
			return result{}, err
		}
		outcome := OutcomeReply
		if followUp {
			outcome = OutcomeFollowUp
		}
		if err := received(tx, ticket.Id, id, p, outcome); err != nil {
			return result{}, err
		}
		return result{state: StateProcessed, outcome: outcome, ticket: ticket.Id, detail: "from the ticket's customer via " + via}, nil
	}
	if via != "address" {
		return refused("the sender " + p.From + " is not the customer of ticket " + t.Id)
	}
	who := p.From
	if p.FromName != "" {
		who = p.FromName + " <" + p.From + ">"
	}
	col, err := tx.FindCachedCollectionByNameOrId(policy.Messages)
	if err != nil {
		return result{}, err
	}
	body := "Mail from " + who + ":\n\n" + text
	if r := []rune(body); len(r) > maxBody {
		body = string(r[:maxBody])
	}
	m := core.NewRecord(col)
	m.Set("ticket", t.Id)
	m.Set("kind", policy.KindNote)
	m.Set("body", body)
	m.Set("authorName", cutStr("mail: "+who, 100))
	if err := store.AttachFiles(tx, m, files); err != nil {
		return result{}, err
	}
	if err := tx.Save(m); err != nil {
		return result{}, err
	}
	if err := received(tx, t.Id, id, p, OutcomeNote); err != nil {
		return result{}, err
	}
	return result{state: StateProcessed, outcome: OutcomeNote, ticket: t.Id, detail: "a note from " + who}, nil
}

// newTicket opens a ticket for the mail, as inboundNewTickets says.
func newTicket(tx core.App, id string, p *Parsed, text string) (result, error) {
	s := settings.Get(tx)
	if s.InboundNewTickets == settings.InboundOff {
		return refused("new tickets by mail are off (inboundNewTickets)")
	}
	if _, err := tx.FindAuthRecordByEmail(policy.Admins, p.From); err == nil {
		return refused(p.From + " is a staff account: staff open no tickets by mail")
	}
	customer, err := tx.FindAuthRecordByEmail(policy.Users, p.From)
	if err != nil && s.InboundNewTickets == settings.InboundCustomers {
		return refused(p.From + " is no customer and only customers may open tickets by mail")
	}
	var opened int
	since := types.NowDateTime().Add(-time.Hour).String()
	if err := tx.DB().NewQuery("SELECT COUNT(*) FROM {{" + Collection + "}} WHERE [[sender]] = {:s} AND [[outcome]] = {:o} AND [[processedAt]] >= {:since}").
		Bind(dbx.Params{"s": p.From, "o": OutcomeNewTicket, "since": since}).Row(&opened); err != nil {
		return result{}, err
	}
	if opened >= MaxNewTicketsPerHour {
		return refused(fmt.Sprintf("%s opened %d tickets in the last hour already", p.From, opened))
	}
	if strings.TrimSpace(text) == "" {
		text = strings.TrimSpace(p.Subject)
	}
	if text == "" {
		return refused("an empty mail")
	}
	if customer == nil {
		if customer, err = newCustomer(tx, p); err != nil {
			return result{}, err
		}
	}
	col, err := tx.FindCachedCollectionByNameOrId(policy.Tickets)
	if err != nil {
		return result{}, err
	}
	t := core.NewRecord(col)
	t.Set("customerId", customer.Id)
	t.Set("ticketContent", text)
	subject := strings.Join(strings.Fields(subjectTag.ReplaceAllString(p.Subject, "")), " ")
	t.Set("ticketSubject", cutStr(subject, policy.MaxSubject))
	t.Set("customerFirstName", customer.GetString("userFirstName"))
	t.Set("customerLastName", customer.GetString("userLastName"))
	files, text := mailFiles(tx, p, text)
	t.Set("ticketContent", text)
	if err := store.AttachFiles(tx, t, files); err != nil {
		return result{}, err
	}
	if err := tx.Save(t); err != nil {
		return result{}, err
	}
	if err := received(tx, t.Id, id, p, OutcomeNewTicket); err != nil {
		return result{}, err
	}
	return result{state: StateProcessed, outcome: OutcomeNewTicket, ticket: t.Id, detail: "a new ticket from " + p.From}, nil
}

var userNameChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// newCustomer makes the customer account of an unknown sender: no usable
// password (a random one nobody knows; "forgot password" sets one and
// verifies the address), not verified, names from the display name.
func newCustomer(tx core.App, p *Parsed) (*core.Record, error) {
	col, err := tx.FindCachedCollectionByNameOrId(policy.Users)
	if err != nil {
		return nil, err
	}
	local, _, _ := strings.Cut(p.From, "@")
	first, last := splitName(p.FromName)
	if first == "" {
		first = cutStr(local, 100)
	}
	if last == "" {
		last = "-"
	}
	base := strings.Trim(userNameChars.ReplaceAllString(local, ""), ".-_")
	if len(base) < 3 {
		base = "customer"
	}
	base = cutStr(base, 40)
	u := core.NewRecord(col)
	u.SetEmail(p.From)
	u.SetVerified(false)
	u.SetPassword(randomHex(24))
	u.Set("userFirstName", cutStr(first, 100))
	u.Set("userLastName", cutStr(last, 100))
	name := base
	for i := 0; i < 5; i++ {
		if _, err := tx.FindFirstRecordByData(policy.Users, "userName", name); err != nil {
			break
		}
		name = base + "-" + randomHex(3)
	}
	u.Set("userName", name)
	if err := tx.Save(u); err != nil {
		return nil, fmt.Errorf("making the customer account of %s: %w", p.From, err)
	}
	return u, nil
}

func splitName(display string) (first, last string) {
	display = strings.TrimSpace(strings.Trim(display, `"'`))
	if strings.Contains(display, "@") {
		return "", ""
	}
	if a, b, ok := strings.Cut(display, ","); ok { // "Last, First"
		return strings.TrimSpace(b), strings.TrimSpace(a)
	}
	f := strings.Fields(display)
	switch len(f) {
	case 0:
		return "", ""
	case 1:
		return f[0], ""
	}
	return strings.Join(f[:len(f)-1], " "), f[len(f)-1]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// received writes the mailReceived history line.
func received(tx core.App, ticketId, inboundId string, p *Parsed, outcome string) error {
	return mail.AddHistory(tx, ticketId, policy.EventMailReceived, map[string]any{
		"inboundMailId": inboundId, "from": p.From, "subject": cutStr(p.Subject, 200), "as": outcome,
	})
}

func customerEmail(tx core.App, t *core.Record) string {
	if u, err := tx.FindRecordById(policy.Users, t.GetString("customerId")); err == nil {
		return strings.ToLower(u.Email())
	}
	return strings.ToLower(t.GetString("userEmail"))
}

// ourOwn says whether addr is the portal's own sender or inbound address.
func ourOwn(app core.App, addr string) bool {
	if strings.EqualFold(addr, app.Settings().Meta.SenderAddress) {
		return true
	}
	kind, _ := mail.ParseRecipient(app, addr)
	return kind != mail.NotOurs
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[len(s)-1-i] = x
	}
	return out
}

// ticketOfMessageIds finds the ticket of the first id that names one of our
// mails or a mail received on a ticket.
func ticketOfMessageIds(tx core.App, ids []string) string {
	for _, mid := range ids {
		if mid == "" {
			continue
		}
		var t string
		err := tx.DB().NewQuery("SELECT ticket FROM {{mailOutbox}} WHERE messageId = {:m} AND ticket != '' LIMIT 1").Bind(dbx.Params{"m": mid}).Row(&t)
		if err == nil && t != "" {
			return t
		}
		err = tx.DB().NewQuery("SELECT ticket FROM {{" + Collection + "}} WHERE messageId = {:m} AND ticket != '' LIMIT 1").Bind(dbx.Params{"m": mid}).Row(&t)
		if err == nil && t != "" {
			return t
		}
	}
	return ""
}

// markBounced marks our mails named in a delivery report failed, with a
// mailFailed line in their ticket's history.
func markBounced(tx core.App, ids []string, report string) (int, error) {
	n := 0
	why := strings.TrimSpace(CutQuotes(report))
	if why == "" {
		why = "bounced"
	}
	for _, mid := range ids {
		var row struct {
			Id      string `db:"id"`
			Ticket  string `db:"ticket"`
			Subject string `db:"subject"`
			To      string `db:"to"`
			Status  string `db:"status"`
		}
		err := tx.DB().NewQuery("SELECT id, ticket, subject, [[to]], status FROM {{mailOutbox}} WHERE messageId = {:m} LIMIT 1").Bind(dbx.Params{"m": mid}).One(&row)
		if err != nil {
			continue
		}
		if row.Status == mail.StatusFailed {
			n++
			continue
		}
		if _, err := tx.DB().Update("mailOutbox", dbx.Params{
			"status": mail.StatusFailed, "lastError": cutStr("Bounced: "+why, 2000), "updatedAt": types.NowDateTime().String(),
		}, dbx.HashExp{"id": row.Id}).Execute(); err != nil {
			return n, err
		}
		if row.Ticket != "" {
			err := mail.AddHistory(tx, row.Ticket, policy.EventMailFailed, map[string]any{
				"mailId": row.Id, "subject": row.Subject, "to": row.To, "error": cutStr("bounced: "+why, 500),
			})
			if err != nil && !errors.Is(err, errNoTicket) {
				tx.Logger().Warn("inbound mail: a bounce's history line failed", "ticket", row.Ticket, "error", err)
			}
		}
		n++
	}
	return n, nil
}

var errNoTicket = errors.New("no ticket")

// mailFiles turns the mail's attachments and inline images into files for
// its message, within the settings' limits (maxAttachments,
// maxAttachmentMB): the files past them are not kept, and the text says
// which, so that nothing is dropped silently.
func mailFiles(tx core.App, p *Parsed, text string) ([]*filesystem.File, string) {
	limits := settings.Get(tx)
	var kept []*filesystem.File
	var dropped []string
	for _, f := range p.Files {
		if len(kept) >= limits.MaxAttachments || int64(len(f.Data)) > int64(limits.MaxAttachmentMB)<<20 || len(f.Data) == 0 {
			dropped = append(dropped, f.Name)
			continue
		}
		file, err := filesystem.NewFileFromBytes(f.Data, f.Name)
		if err != nil {
			dropped = append(dropped, f.Name)
			continue
		}
		kept = append(kept, file)
	}
	if len(dropped) > 0 {
		note := "\n\n[Attachments not kept (over the limits of " + fmt.Sprint(limits.MaxAttachments) + " files of " +
			fmt.Sprint(limits.MaxAttachmentMB) + " MiB, or empty): " + strings.Join(dropped, ", ") + "]"
		if r := []rune(text); len(r)+len([]rune(note)) > maxBody {
			text = string(r[:max(0, maxBody-len([]rune(note)))])
		}
		text += note
	}
	return kept, text
}
