package hooks

import "github.com/pocketbase/pocketbase/core"

// SLABreached is the admin room's message about a missed deadline.
type SLABreached struct {
	Event    string `json:"event"` // always "slaBreached"
	TicketId string `json:"ticketId"`
	Which    string `json:"which"` // "firstResponse" or "resolve"
}

// AnnounceSLABreach tells the admin room that ticket ticketId missed its
// deadline which, through the same dispatcher as the marked events (the
// realtime sender bindRealtime keeps under realtimeStoreKey).
func AnnounceSLABreach(app core.App, ticketId, which string) {
	rt, ok := app.Store().Get(realtimeStoreKey).(*realtime)
	if !ok {
		return
	}
	rt.announce(SLABreached{Event: "slaBreached", TicketId: ticketId, Which: which})
}
