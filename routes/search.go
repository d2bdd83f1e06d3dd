package routes

import (
	"errors"
	"net/http"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
)

// bindSearch lists the search routes.
func bindSearch(se *core.ServeEvent) {
	r := se.Router
	r.GET("/searchTickets", searchTickets).BindFunc(require(policy.SearchTickets))
	r.GET("/similarTickets/{ticketId}", similarTickets).BindFunc(require(policy.SimilarTickets))
}

// Similar tickets per request.
const (
	defaultSimilar = 5
	maxSimilar     = 20
)

func searchTickets(e *core.RequestEvent) error {
	q := e.Request.URL.Query()
	p, errs := parsePage(q)
	if errs != nil {
		name := "page"
		if errs["page"] == nil {
			name = "limit"
		}
		return e.BadRequestError("The "+name+" parameter must be a whole number of at least 1.", errs)
	}
	if !q.Has("q") || q.Get("q") == "" {
		return fieldError(e, "Say what to search for in q.", "q", "validation_required", "Cannot be blank.")
	}
	terms, err := store.ParseQuery(q.Get("q"))
	if err != nil {
		var qe *store.QueryError
		if errors.As(err, &qe) {
			return fieldError(e, qe.Reason, "q", "validation_invalid_query", qe.Reason)
		}
		return e.InternalServerError("", err)
	}

	who, _ := policy.SearchScopeOf(e.Auth)
	scope := store.SearchScope{Staff: who.Staff, CustomerId: who.CustomerId}
	switch status := q.Get("status"); status {
	case "":
	case policy.StatusActive, policy.StatusClosed:
		scope.Status = status
	default:
		return fieldError(e, "The status parameter must be active or closed.", "status", "validation_invalid_status", "Must be active or closed.")
	}
	if who.ActiveOnly {
		if scope.Status == policy.StatusClosed {
			return e.ForbiddenError("Your role may not search closed tickets.", nil)
		}
		scope.Status = policy.StatusActive
	}
	if q.Has("tag") {
		if !who.Staff {
			return e.ForbiddenError("Only staff may filter by tag.", nil)
		}
		tag, err := policy.NormalizeTag(q.Get("tag"))
		if err != nil {
			return fieldError(e, "The tag parameter is not a valid tag.", "tag", "validation_invalid_tag", "Must be 1 to 30 of a-z 0-9 - _.")
		}
		scope.Tag = tag
	}

	hits, total, err := store.SearchTickets(e.App, terms, scope, int64(p.Limit), p.offset())
	if err != nil {
		return e.InternalServerError("", err)
	}
	page, err := ticketsInOrder(e.App, hits)
	if err != nil {
		return e.InternalServerError("", err)
	}
	// the index's scope is the rules' (a test holds them to it); a ticket
	// the caller may not see never leaves, whatever happens
	visible := page[:0]
	for _, t := range page {
		if policy.TicketVisible(e.Auth, t.GetString("customerId"), t.GetString("ticketStatus")) {
			visible = append(visible, t)
		} else {
			e.App.Logger().Error("search found a ticket its caller may not see", "ticket", t.Id, "auth", e.Auth.Id)
		}
	}
	page = visible
	if err := shape(e, page...); err != nil {
		return e.InternalServerError("", err)
	}
	snippets := make(map[string]string, len(hits))
	for _, h := range hits {
		snippets[h.TicketId] = h.Snippet
	}
	for _, t := range page {
		t.Set("snippet", snippets[t.Id])
	}
	return e.JSON(http.StatusOK, listResponse{
		Message:         "Search results.",
		Data:            page,
		Page:            p.Page,
		NumOfItems:      len(page),
		TotalNumOfItems: total,
		NumOfPages:      p.numOfPages(total),
	})
}

// ticketsInOrder loads the tickets of hits, in the hits' order.
func ticketsInOrder(app core.App, hits []store.SearchHit) ([]*core.Record, error) {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.TicketId
	}
	return ticketsByIds(app, ids)
}

func ticketsByIds(app core.App, ids []string) ([]*core.Record, error) {
	recs, err := app.FindRecordsByIds(policy.Tickets, ids)
	if err != nil {
		return nil, err
	}
	byId := make(map[string]*core.Record, len(recs))
	for _, r := range recs {
		byId[r.Id] = r
	}
	out := make([]*core.Record, 0, len(ids))
	for _, id := range ids {
		if r := byId[id]; r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// similarEntry is what an admin, who may not read closed tickets, gets for
// each similar ticket: no customer data, no conversation.
type similarEntry struct {
	Id            string `json:"id"`
	TicketSubject string `json:"ticketSubject"`
	LastAnswer    string `json:"lastAnswer"`
	ClosedAt      string `json:"closedAt"`
}

func similarTickets(e *core.RequestEvent) error {
	limit := defaultSimilar
	if raw := e.Request.URL.Query().Get("limit"); e.Request.URL.Query().Has("limit") {
		n, ok := atLeastOne(raw, maxSimilar)
		if !ok {
			return fieldError(e, "The limit parameter must be a whole number of at least 1.", "limit", "validation_invalid_limit", "Must be a whole number of at least 1.")
		}
		limit = n
	}
	t, err := findTicket(e, viewRule)
	if err != nil {
		return err
	}
	hits, err := store.SimilarTickets(e.App, t.Id, int64(limit))
	if err != nil {
		return e.InternalServerError("", err)
	}
	ids := make([]string, len(hits))
	answers := make(map[string]string, len(hits))
	for i, h := range hits {
		ids[i] = h.TicketId
		answers[h.TicketId] = h.LastAnswer
	}
	found, err := ticketsByIds(e.App, ids)
	if err != nil {
		return e.InternalServerError("", err)
	}
	var data any
	if policy.Can(e.Auth, policy.ReadAnyTicket) {
		if err := shape(e, found...); err != nil {
			return e.InternalServerError("", err)
		}
		for _, r := range found {
			r.Set("lastAnswer", answers[r.Id])
		}
		data = found
	} else {
		entries := make([]similarEntry, len(found))
		for i, r := range found {
			entries[i] = similarEntry{Id: r.Id, TicketSubject: r.GetString("ticketSubject"), LastAnswer: answers[r.Id], ClosedAt: r.GetString("closedAt")}
		}
		data = entries
	}
	n := len(found)
	return e.JSON(http.StatusOK, listResponse{
		Message:         "Closed tickets like this one.",
		Data:            data,
		Page:            1,
		NumOfItems:      n,
		TotalNumOfItems: int64(n),
		NumOfPages:      min(int64(n), 1),
	})
}
