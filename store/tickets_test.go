package store

import (
	"errors"
	"testing"

	"ticketportal/policy"
)

func TestApply(t *testing.T) {
	active, closed := policy.StatusActive, policy.StatusClosed
	cases := []struct {
		name    string
		from    State
		mark    Mark
		to      State
		changed bool
		err     error
	}{
		{"take a free ticket", State{Status: active}, Take, State{Status: active, TakenBy: "me"}, true, nil},
		{"take my own ticket again", State{Status: active, TakenBy: "me"}, Take, State{Status: active, TakenBy: "me"}, false, nil},
		{"take a ticket another holds", State{Status: active, TakenBy: "you"}, Take, State{Status: active, TakenBy: "you"}, false, &HeldError{By: "you"}},
		{"take a closed ticket", State{Status: closed}, Take, State{Status: closed}, false, ErrClosed},
		{"close an active ticket", State{Status: active, TakenBy: "you"}, Close, State{Status: closed, TakenBy: "you"}, true, nil},
		{"close a closed ticket", State{Status: closed}, Close, State{Status: closed}, false, nil},
		{"prioritize an active ticket", State{Status: active}, Prioritize, State{Status: active, HighPriority: true}, true, nil},
		{"prioritize a high priority ticket", State{Status: active, HighPriority: true}, Prioritize, State{Status: active, HighPriority: true}, false, nil},
		{"prioritize a closed ticket", State{Status: closed}, Prioritize, State{Status: closed}, false, ErrClosed},
		{"an unknown mark", State{Status: active}, Mark("reopen"), State{Status: active}, false, errors.New("unknown mark")},
	}
	for _, c := range cases {
		to, changed, err := Apply(c.from, c.mark, "me")
		if (err == nil) != (c.err == nil) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
			continue
		}
		var held *HeldError
		if errors.As(c.err, &held) {
			var got *HeldError
			if !errors.As(err, &got) || got.By != held.By {
				t.Errorf("%s: error %v, want held by %s", c.name, err, held.By)
			}
		}
		if errors.Is(c.err, ErrClosed) && !errors.Is(err, ErrClosed) {
			t.Errorf("%s: error %v, want ErrClosed", c.name, err)
		}
		if to != c.to || changed != c.changed {
			t.Errorf("%s: %+v changed=%v, want %+v changed=%v", c.name, to, changed, c.to, c.changed)
		}
	}
}
