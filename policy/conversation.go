package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Collections of Part 2.
const (
	Messages       = "messages"
	History        = "ticketHistory"
	PortalSettings = "portalSettings"
)

// Kinds of messages on a ticket.
const (
	KindAnswer = "answer" // staff to the customer; mailed
	KindReply  = "reply"  // the customer
	KindNote   = "note"   // staff to staff; never shown to a customer
)

// Who the ticket waits on.
const (
	WaitingOnAgent    = "agent"
	WaitingOnCustomer = "customer"
)

// History events of the conversation.
const (
	EventCreated      = "created"
	EventReplied      = "replied"
	EventAnswered     = "answered"
	EventNoted        = "noted"
	EventTaken        = "taken"
	EventReleased     = "released"
	EventAssigned     = "assigned"
	EventClosed       = "closed"
	EventReopened     = "reopened"
	EventPrioritized  = "prioritized"
	EventTagged       = "tagged"
	EventRated        = "rated"
	EventSlaBreached  = "slaBreached"
	EventMailSent     = "mailSent"
	EventMailFailed   = "mailFailed"
	EventMailReceived = "mailReceived"
)

// HistoryEvents lists every history event, in the order of the select
// field's values.
var HistoryEvents = []string{
	EventCreated, EventReplied, EventAnswered, EventNoted, EventTaken, EventReleased, EventAssigned,
	EventClosed, EventReopened, EventPrioritized, EventTagged, EventRated, EventSlaBreached,
	EventMailSent, EventMailFailed, EventMailReceived,
}

// StaffOnlyTicketFields are the ticket fields a customer never sees, on any
// surface (custom routes, record API view/list/expand, realtime): the hook
// in hooks/conversation.go hides them from every non-staff requester. Later
// work (service levels) appends its fields here.
var StaffOnlyTicketFields = []string{"tags"}

// MessageVisible is the Go twin of MessagesViewRule: whoever may see the
// ticket sees its answers and replies; notes are for staff only.
func MessageVisible(auth *core.Record, customerId, status, kind string) bool {
	if kind == KindNote && !IsStaff(auth) {
		return false
	}
	return TicketVisible(auth, customerId, status)
}

// MaxSubject is the longest ticketSubject; a default subject is cut at
// DefaultSubjectLength characters.
const (
	MaxSubject           = 200
	DefaultSubjectLength = 120
)

// DefaultSubject is the first line of a ticket's content, cut to 120
// characters.
func DefaultSubject(content string) string {
	line, _, _ := strings.Cut(strings.TrimLeft(content, " \t\r\n"), "\n")
	line = strings.TrimSpace(line)
	r := []rune(line)
	if len(r) > DefaultSubjectLength {
		r = r[:DefaultSubjectLength]
	}
	return strings.TrimSpace(string(r))
}

// WithinReopenWindow says whether a reply at now to a ticket closed at
// closedAt reopens it (true) or starts a follow-up ticket (false). A window
// of 0 days never reopens; a ticket without a closing time (closed before
// the time was kept) counts as closed long ago.
func WithinReopenWindow(closedAt, now time.Time, days int) bool {
	if days <= 0 || closedAt.IsZero() {
		return false
	}
	return !now.After(closedAt.Add(time.Duration(days) * 24 * time.Hour))
}

// Tags: lowercase, 1 to 30 of a-z 0-9 - _, at most 10 on a ticket.
const (
	MaxTags      = 10
	MaxTagLength = 30
)

var tagPattern = regexp.MustCompile(`^[a-z0-9_-]{1,30}$`)

// NormalizeTag lowercases a tag and checks it.
func NormalizeTag(tag string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(tag))
	if !tagPattern.MatchString(t) {
		return "", fmt.Errorf("tag %q must be 1 to %d of a-z 0-9 - _", cutForMessage(tag), MaxTagLength)
	}
	return t, nil
}

// NormalizeTags lowercases, checks and de-duplicates a ticket's tags (in
// their order) and refuses more than MaxTags.
func NormalizeTags(tags []string) ([]string, error) {
	out := []string{}
	for _, tag := range tags {
		t, err := NormalizeTag(tag)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, fmt.Errorf("a ticket has at most %d tags", MaxTags)
	}
	return out, nil
}

func cutForMessage(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return strings.Map(func(c rune) rune {
		if c < 0x20 {
			return -1
		}
		return c
	}, string(r))
}
