// Package store holds the queries that more than one part of the portal uses.
package store

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// Answer is one answer as it appears inside a ticket's JSON.
type Answer struct {
	Id        string `json:"id"`
	Answer    string `json:"answer"`
	CreatedAt string `json:"createdAt"`
	AdminId   string `json:"adminId"`
}

// AnswersByTicket loads the answers of the given tickets in one query,
// oldest first, grouped by ticket id.
func AnswersByTicket(app core.App, ticketIds ...string) (map[string][]Answer, error) {
	out := make(map[string][]Answer, len(ticketIds))
	if len(ticketIds) == 0 {
		return out, nil
	}
	ids := make([]any, len(ticketIds))
	for i, id := range ticketIds {
		ids[i] = id
	}
	var rows []*core.Record
	err := app.RecordQuery(policy.Answers).
		AndWhere(dbx.In("ticket", ids...)).
		OrderBy("createdAt ASC", "rowid ASC").
		All(&rows)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		t := r.GetString("ticket")
		out[t] = append(out[t], Answer{
			Id:        r.Id,
			Answer:    r.GetString("answer"),
			CreatedAt: r.GetDateTime("createdAt").String(),
			AdminId:   r.GetString("adminId"),
		})
	}
	return out, nil
}

// AttachAnswers sets each ticket's "ticketAnswers" (never null) so that it is
// part of the ticket's JSON.
func AttachAnswers(app core.App, tickets ...*core.Record) error {
	ids := make([]string, len(tickets))
	for i, t := range tickets {
		ids[i] = t.Id
	}
	byTicket, err := AnswersByTicket(app, ids...)
	if err != nil {
		return err
	}
	for _, t := range tickets {
		answers := byTicket[t.Id]
		if answers == nil {
			answers = []Answer{}
		}
		t.WithCustomData(true)
		t.Set("ticketAnswers", answers)
	}
	return nil
}
