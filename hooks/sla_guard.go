package hooks

import (
	"regexp"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// A customer must not learn a staff-only field by filtering or sorting on
// it either (the enrich hook hides its value, not the rows a filter picks):
// the record API's lists of tickets and messages, and realtime
// subscriptions with query options, refuse such a filter or sort from
// anyone but staff.

var staffOnlyMention = regexp.MustCompile(`\b(` + strings.Join(policy.StaffOnlyTicketFields, "|") + `)\b`)

// mentionsStaffOnly says whether a filter, sort or subscription names a
// staff-only ticket field.
func mentionsStaffOnly(s string) bool { return s != "" && staffOnlyMention.MatchString(s) }

func bindStaffOnlyFilters(app core.App) {
	guard := func(e *core.RecordsListRequestEvent) error {
		if e.HasSuperuserAuth() || policy.IsStaff(e.Auth) {
			return e.Next()
		}
		q := e.Request.URL.Query()
		if mentionsStaffOnly(q.Get("filter")) || mentionsStaffOnly(q.Get("sort")) {
			return e.BadRequestError("Filtering or sorting on staff-only fields is not allowed.", nil)
		}
		return e.Next()
	}
	app.OnRecordsListRequest(policy.Tickets, policy.Messages).BindFunc(guard)

	app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		if policy.IsStaff(e.Auth) {
			return e.Next()
		}
		for _, sub := range e.Subscriptions {
			if _, opts, ok := strings.Cut(sub, "?"); ok && mentionsStaffOnly(opts) {
				return e.BadRequestError("Filtering on staff-only fields is not allowed.", nil)
			}
		}
		return e.Next()
	})
}
