package hooks

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"

	"ticketportal/policy"
)

// insideDeleteTx is the priority of a delete execute handler that runs
// inside PocketBase's delete transaction: its own handler (priority 99)
// opens the transaction and then calls the next ones.
const insideDeleteTx = 100

func bindAdmins(app core.App) {
	// A deleted agent's (or operator's) active tickets go back to the queue,
	// whatever path deleted it (/deleteAdmin, the record API, the dashboard),
	// in the transaction of the delete: a take that commits before it is
	// undone here, one after it is refused by the database (the holder must
	// exist, store/integrity.go). The trigger integrity_admins_delete frees
	// the rows as the account's row goes; the tickets read before are saved
	// again so that their update hooks (realtime, counters) run.
	app.OnRecordDeleteExecute(policy.Admins, core.CollectionNameSuperusers).Bind(&hook.Handler[*core.RecordEvent]{
		Priority: insideDeleteTx,
		Func: func(e *core.RecordEvent) error {
			held, err := e.App.FindAllRecords(policy.Tickets, dbx.HashExp{"takenBy": e.Record.Id, "ticketStatus": policy.StatusActive})
			if err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			for _, t := range held {
				t.Set("takenBy", "")
				if err := e.App.Save(t); err != nil {
					return err
				}
			}
			return nil
		},
	})
}
