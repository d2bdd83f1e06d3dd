package sla

import (
	"testing"
	"time"

	"ticketportal/settings"
)

var sent = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func at(min float64) time.Time { return sent.Add(Minutes(min)) }

func TestDueByPriority(t *testing.T) {
	def := settings.Defaults().SLA
	frac := settings.SLA{High: settings.Target{FirstResponseMinutes: 0.05, ResolveMinutes: 0.5}, Normal: settings.Target{FirstResponseMinutes: 1.5, ResolveMinutes: 2.25}}
	cases := []struct {
		name           string
		s              settings.SLA
		high           bool
		first, resolve time.Time
	}{
		{"normal priority, default targets", def, false, sent.Add(8 * time.Hour), sent.Add(72 * time.Hour)},
		{"high priority, default targets", def, true, sent.Add(time.Hour), sent.Add(8 * time.Hour)},
		{"fractional minutes: 0.05 is 3 s", frac, true, sent.Add(3 * time.Second), sent.Add(30 * time.Second)},
		{"fractional minutes: 1.5 and 2.25", frac, false, sent.Add(90 * time.Second), sent.Add(135 * time.Second)},
		{"a thousandth of a minute is 60 ms", settings.SLA{Normal: settings.Target{FirstResponseMinutes: 0.001, ResolveMinutes: 0.0105}}, false, sent.Add(60 * time.Millisecond), sent.Add(630 * time.Millisecond)},
	}
	for _, c := range cases {
		f, r := Due(sent, c.high, c.s)
		if !f.Equal(c.first) || !r.Equal(c.resolve) {
			t.Errorf("%s: due %s / %s, want %s / %s", c.name, f, r, c.first, c.resolve)
		}
	}
}

// A priority change recomputes the deadlines from when the ticket was sent,
// not from the change.
func TestPriorityChangeCountsFromSending(t *testing.T) {
	def := settings.Defaults().SLA
	cases := []struct {
		name           string
		before, after  bool
		first, resolve time.Time
	}{
		{"normal to high", false, true, sent.Add(time.Hour), sent.Add(8 * time.Hour)},
		{"high to normal", true, false, sent.Add(8 * time.Hour), sent.Add(72 * time.Hour)},
		{"unchanged high", true, true, sent.Add(time.Hour), sent.Add(8 * time.Hour)},
	}
	for _, c := range cases {
		f0, _ := Due(sent, c.before, def)
		f, r := Due(sent, c.after, def)
		if !f.Equal(c.first) || !r.Equal(c.resolve) {
			t.Errorf("%s: due %s / %s (was %s), want %s / %s", c.name, f, r, f0, c.first, c.resolve)
		}
	}
}

func TestClock(t *testing.T) {
	none := time.Time{}
	cases := []struct {
		name    string
		tk      Ticket
		now     time.Time
		next    time.Time
		missed  []Which
		sortDue time.Time
	}{
		{"new ticket: the first response is next", Ticket{Active: true, FirstResponseDue: at(60), ResolveDue: at(480)}, at(1), at(60), nil, at(60)},
		{"answered in time: the close is next", Ticket{Active: true, FirstResponseDue: at(60), ResolveDue: at(480), FirstRespondedAt: at(30)}, at(31), at(480), nil, at(480)},
		{"first response missed", Ticket{Active: true, FirstResponseDue: at(60), ResolveDue: at(480)}, at(60), at(60), []Which{FirstResponse}, at(60)},
		{"both missed while down: earliest first", Ticket{Active: true, FirstResponseDue: at(60), ResolveDue: at(480)}, at(1000), at(60), []Which{FirstResponse, Resolve}, at(60)},
		{"first response recorded: the close is watched", Ticket{Active: true, FirstResponseDue: at(60), ResolveDue: at(480), Announced: map[Which]bool{FirstResponse: true}}, at(100), at(480), nil, at(60)},
		{"both recorded: nothing to watch", Ticket{Active: true, FirstResponseDue: at(60), ResolveDue: at(480), Announced: map[Which]bool{FirstResponse: true, Resolve: true}}, at(1000), none, nil, at(60)},
		{"closed in time: nothing", Ticket{FirstResponseDue: at(60), ResolveDue: at(480), FirstRespondedAt: at(10), ResolvedAt: at(20)}, at(1000), none, nil, none},
		{"closed without an answer in time: nothing", Ticket{FirstResponseDue: at(60), ResolveDue: at(480), ResolvedAt: at(20)}, at(1000), none, nil, none},
		{"answered late before the scheduler looked: still a breach", Ticket{Active: true, FirstResponseDue: at(60), ResolveDue: at(480), FirstRespondedAt: at(61)}, at(62), at(60), []Which{FirstResponse}, at(480)},
		{"closed late: both missed", Ticket{FirstResponseDue: at(60), ResolveDue: at(480), ResolvedAt: at(500)}, at(501), at(60), []Which{FirstResponse, Resolve}, none},
		{"resolve due before first response (odd targets)", Ticket{Active: true, FirstResponseDue: at(90), ResolveDue: at(45)}, at(100), at(45), []Which{Resolve, FirstResponse}, at(45)},
		{"just before the deadline: not missed", Ticket{Active: true, FirstResponseDue: at(60), ResolveDue: at(480)}, at(59.999), at(60), nil, at(60)},
		{"no deadlines (old data)", Ticket{Active: true}, at(5), none, nil, none},
	}
	for _, c := range cases {
		if got := c.tk.NextCheck(); !got.Equal(c.next) {
			t.Errorf("%s: next check %s, want %s", c.name, got, c.next)
		}
		got := c.tk.Missed(c.now)
		if len(got) != len(c.missed) {
			t.Errorf("%s: missed %v, want %v", c.name, got, c.missed)
		} else {
			for i := range got {
				if got[i] != c.missed[i] {
					t.Errorf("%s: missed %v, want %v", c.name, got, c.missed)
				}
			}
		}
		if got := c.tk.SortDue(); !got.Equal(c.sortDue) {
			t.Errorf("%s: sort key %s, want %s", c.name, got, c.sortDue)
		}
	}
}

func TestLastMissed(t *testing.T) {
	tk := Ticket{FirstResponseDue: at(60), ResolveDue: at(480)}
	cases := []struct {
		current Which
		missed  []Which
		want    Which
	}{
		{"", []Which{FirstResponse}, FirstResponse},
		{"", []Which{FirstResponse, Resolve}, Resolve},
		{FirstResponse, []Which{Resolve}, Resolve},
		{Resolve, nil, Resolve},
		{"", nil, ""},
	}
	for _, c := range cases {
		if got := tk.LastMissed(c.current, c.missed); got != c.want {
			t.Errorf("LastMissed(%q, %v) = %q, want %q", c.current, c.missed, got, c.want)
		}
	}
	odd := Ticket{FirstResponseDue: at(90), ResolveDue: at(45)}
	if got := odd.LastMissed("", []Which{Resolve, FirstResponse}); got != FirstResponse {
		t.Errorf("with the close due first, the first response is missed last; got %q", got)
	}
}
