package hooks

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

func bindAdmins(app core.App) {
	// A deleted agent's active tickets go back to the queue, whatever path
	// deleted it (/deleteAdmin, the record API, the dashboard).
	app.OnRecordDeleteExecute(policy.Admins).BindFunc(func(e *core.RecordEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		adminId := e.Record.Id
		return e.App.RunInTransaction(func(tx core.App) error {
			held, err := tx.FindAllRecords(policy.Tickets, dbx.HashExp{"takenBy": adminId, "ticketStatus": policy.StatusActive})
			if err != nil {
				return err
			}
			for _, t := range held {
				t.Set("takenBy", "")
				if err := tx.Save(t); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
