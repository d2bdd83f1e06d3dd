package hooks

import (
	"net/http"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// The record API's lists of tickets and messages get the caller's
// narrowing filter (policy.ListNarrowing) ANDed to theirs, so that a
// customer listing its tickets reads the (customerId, createdAt) index and
// an agent the (ticketStatus, createdAt) one instead of scanning every
// ticket. The filter is implied by the collection's rule for that caller:
// the answer is the same, only faster.
func bindRecordLists(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(narrowRecordList)
		return se.Next()
	})
}

func narrowRecordList(e *core.RequestEvent) error {
	if e.Request.Method != http.MethodGet || e.Auth == nil || e.HasSuperuserAuth() {
		return e.Next()
	}
	rest, ok := strings.CutPrefix(e.Request.URL.Path, "/api/collections/")
	if !ok {
		return e.Next()
	}
	name, ok := strings.CutSuffix(strings.TrimSuffix(rest, "/"), "/records")
	if !ok || strings.Contains(name, "/") {
		return e.Next()
	}
	c, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil {
		return e.Next()
	}
	narrow := policy.ListNarrowing(e.Auth, c.Name)
	if narrow == "" {
		return e.Next()
	}
	q := e.Request.URL.Query()
	if old := strings.TrimSpace(q.Get("filter")); old != "" {
		narrow = "(" + old + ") && " + narrow
	}
	q.Set("filter", narrow)
	e.Request.URL.RawQuery = q.Encode()
	return e.Next()
}
