package store

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// AccountFieldTaken tells whether an account of collection other than
// exceptId has value in field (userName or email), case-insensitively.
func AccountFieldTaken(app core.App, collection, field, value, exceptId string) bool {
	var found struct{ Id string }
	err := app.RecordQuery(collection).
		Select("id").
		AndWhere(dbx.NewExp("LOWER(["+field+"]) = LOWER({:v})", dbx.Params{"v": value})).
		AndWhere(dbx.Not(dbx.HashExp{"id": exceptId})).
		Limit(1).
		One(&found)
	return err == nil && found.Id != ""
}

// Secret reads one of the server's own secrets (portalSecrets).
func Secret(app core.App, name string) (string, error) {
	var v string
	err := app.DB().NewQuery("SELECT value FROM portalSecrets WHERE name = {:name}").Bind(dbx.Params{"name": name}).Row(&v)
	return v, err
}

// MailCounts counts the outbox's mails by status.
func MailCounts(app core.App) (map[string]int, error) {
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := app.DB().NewQuery("SELECT status, COUNT(*) AS n FROM mailOutbox GROUP BY status").All(&rows); err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(rows))
	for _, r := range rows {
		counts[r.Status] = r.N
	}
	return counts, nil
}
