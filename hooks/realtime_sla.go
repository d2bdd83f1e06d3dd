package hooks

import "github.com/pocketbase/pocketbase/core"

// slaRealtimeKey is where bindRealtime keeps the app's realtime sender in
// its store (realtimeStoreKey of the conversation's announcers, the same
// key), so that this announcer uses the same dispatcher: one order of
// events, the same bounds and re-checks.
const slaRealtimeKey = "ticketportal.realtime"

// SLABreached is the admin room's message about a missed deadline.
type SLABreached struct {
	Event    string `json:"event"` // always "slaBreached"
	TicketId string `json:"ticketId"`
	Which    string `json:"which"` // "firstResponse" or "resolve"
}

// AnnounceSLABreach tells the admin room that ticket ticketId missed its
// deadline which, through the same dispatcher as the marked events.
func AnnounceSLABreach(app core.App, ticketId, which string) {
	rt, ok := app.Store().Get(slaRealtimeKey).(*realtime)
	if !ok {
		return
	}
	rt.announce(SLABreached{Event: "slaBreached", TicketId: ticketId, Which: which})
}
