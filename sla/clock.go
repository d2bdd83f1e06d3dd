package sla

import (
	"time"

	"github.com/pocketbase/pocketbase/core"
)

const clockKey = "ticketportal.sla.clock"

// Now is the app's current time for service levels and rating links: the
// real clock, unless a test set another with SetClock.
func Now(app core.App) time.Time {
	if f, ok := app.Store().Get(clockKey).(func() time.Time); ok && f != nil {
		return f().UTC()
	}
	return time.Now().UTC()
}

// SetClock replaces the app's clock (tests); nil restores the real one.
func SetClock(app core.App, now func() time.Time) {
	if now == nil {
		app.Store().Remove(clockKey)
		return
	}
	app.Store().Set(clockKey, now)
}
