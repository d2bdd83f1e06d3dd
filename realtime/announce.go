package realtime

import "github.com/pocketbase/pocketbase/core"

// storeKey is where Register keeps the engine in the app's store, for
// the announcements made from outside this package.
const storeKey = "ticketportal.realtime"

// Viewing is the admin room's message that an agent has a ticket open (and
// is typing in it): the console shows "agent2 is viewing / typing" so that
// two agents do not write to the same customer at once.
type Viewing struct {
	Event    string `json:"event"` // always "viewing"
	TicketId string `json:"ticketId"`
	By       string `json:"by"`
	ByName   string `json:"byName"`
	Typing   bool   `json:"typing"`
}

// AnnounceViewing tells everyone in the admin room that the account by is
// viewing (or typing in) the ticket. It returns at once; the message goes
// out on the realtime dispatcher like the marks.
func AnnounceViewing(app core.App, ticketId, by, byName string, typing bool) {
	rt, ok := app.Store().Get(storeKey).(*engine)
	if !ok {
		return
	}
	rt.announce(Viewing{Event: "viewing", TicketId: ticketId, By: by, ByName: byName, Typing: typing})
}

// SLABreached is the admin room's message about a missed deadline.
type SLABreached struct {
	Event    string `json:"event"` // always "slaBreached"
	TicketId string `json:"ticketId"`
	Which    string `json:"which"` // "firstResponse" or "resolve"
}

// AnnounceSLABreach tells the admin room that ticket ticketId missed its
// deadline which, through the same dispatcher as the marked events.
func AnnounceSLABreach(app core.App, ticketId, which string) {
	rt, ok := app.Store().Get(storeKey).(*engine)
	if !ok {
		return
	}
	rt.announce(SLABreached{Event: "slaBreached", TicketId: ticketId, Which: which})
}
