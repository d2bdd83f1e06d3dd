package store

import (
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// CannedReply is a canned reply as the routes show it.
type CannedReply struct {
	Id      string `json:"id"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Shared  bool   `json:"shared"`
	OwnerId string `json:"ownerId"`
}

// CannedOf is a canned reply record's public shape.
func CannedOf(r *core.Record) CannedReply {
	return CannedReply{Id: r.Id, Title: r.GetString("title"), Body: r.GetString("body"), Shared: r.GetBool("shared"), OwnerId: r.GetString("ownerId")}
}

// cannedVisible is the Go twin of CannedViewRule for a staff account: the
// shared replies and its own.
func cannedVisible(ownerId string) dbx.Expression {
	return dbx.Or(dbx.HashExp{"shared": true}, dbx.HashExp{"ownerId": ownerId})
}

// ListCannedReplies is one page of the canned replies an account sees (the
// shared ones and its own), shared first then by title, optionally only
// those whose title or body holds q; with their total.
func ListCannedReplies(app core.App, ownerId, q string, limit, offset int64) ([]CannedReply, int64, error) {
	where := cannedVisible(ownerId)
	if q = strings.TrimSpace(q); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
		where = dbx.And(where, dbx.NewExp(`(title LIKE {:like} ESCAPE '\' OR body LIKE {:like} ESCAPE '\')`, dbx.Params{"like": like}))
	}
	total, err := app.CountRecords(policy.CannedReplies, where)
	if err != nil {
		return nil, 0, err
	}
	out := []CannedReply{}
	if offset >= total {
		return out, total, nil
	}
	var recs []*core.Record
	err = app.RecordQuery(policy.CannedReplies).AndWhere(where).
		OrderBy("shared DESC", "lower(title) ASC", "rowid ASC").
		Limit(limit).Offset(offset).All(&recs)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range recs {
		out = append(out, CannedOf(r))
	}
	return out, total, nil
}
