package hooks

import (
	"errors"
	"net/http"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"ticketportal/policy"
	"ticketportal/store"
)

// integrityCollections are the collections whose writes the integrity
// triggers check (store/integrity.go, docs/integrity.md).
var integrityCollections = []string{policy.Users, policy.Admins, policy.Tickets, policy.Messages}

func bindIntegrity(app core.App) {
	// A write the triggers refuse fails with a *store.IntegrityError instead
	// of SQLite's text, whatever path saved it: the routes' save error
	// mappers read it as a field error, the record API answers below.
	refused := func(e *core.RecordEvent) error {
		err := e.Next()
		if ie := store.IntegrityErrorOf(err); ie != nil {
			return ie
		}
		return err
	}
	app.OnRecordCreateExecute(integrityCollections...).BindFunc(refused)
	app.OnRecordUpdateExecute(integrityCollections...).BindFunc(refused)

	// The record API (and so the batch API and the dashboard) answers a
	// refusal with its own status and message, and a taken user name or
	// email with 409 whether the hook or a trigger found it.
	app.OnRecordCreateRequest(integrityCollections...).BindFunc(func(e *core.RecordRequestEvent) error {
		return integrityAnswer(e.Collection.Name, e.Next())
	})
	app.OnRecordUpdateRequest(integrityCollections...).BindFunc(func(e *core.RecordRequestEvent) error {
		return integrityAnswer(e.Collection.Name, e.Next())
	})

	// A schema change may rebuild a table and drop its triggers; put them
	// back. Check them once at start as well.
	app.OnCollectionAfterUpdateSuccess(append([]string{core.CollectionNameSuperusers}, integrityCollections...)...).BindFunc(func(e *core.CollectionEvent) error {
		if err := store.EnsureIntegrity(e.App); err != nil {
			e.App.Logger().Error("restoring the integrity triggers failed", "error", err)
		}
		return e.Next()
	})
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		if err := store.EnsureIntegrity(e.App); err != nil {
			return err
		}
		return e.Next()
	})
}

// integrityAnswer turns a record API error that carries a refusal of the
// triggers, or an account's taken user name or email, into its 4xx.
func integrityAnswer(collection string, err error) error {
	if err == nil {
		return nil
	}
	var cause error = err
	var apiErr *router.ApiError
	if errors.As(err, &apiErr) {
		raw, ok := apiErr.RawData().(error)
		if !ok {
			return err
		}
		cause = raw
	}
	if ie := store.IntegrityErrorOf(cause); ie != nil {
		return ie.ApiError()
	}
	if collection != policy.Users && collection != policy.Admins {
		return err
	}
	var verrs validation.Errors
	if !errors.As(cause, &verrs) {
		return err
	}
	taken := validation.Errors{}
	for _, field := range []string{"userName", "email"} {
		var ve validation.Error
		if errors.As(verrs[field], &ve) && ve.Code() == "validation_not_unique" {
			taken[field] = validation.NewError("validation_not_unique", "Already taken by another account.")
		}
	}
	switch len(taken) {
	case 0:
		return err
	case 2:
		return router.NewApiError(http.StatusConflict, "That user name and email are already taken.", taken)
	}
	if taken["email"] != nil {
		return router.NewApiError(http.StatusConflict, "That email is already taken.", taken)
	}
	return router.NewApiError(http.StatusConflict, "That user name is already taken.", taken)
}
