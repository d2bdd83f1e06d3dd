package hooks

import (
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
)

func bindAccounts(app core.App) {
	// A user name or an email names one account across customers and agents,
	// so that /login never has to guess whose password to try.
	app.OnRecordValidate(policy.Users, policy.Admins).BindFunc(func(e *core.RecordEvent) error {
		if err := uniqueAcrossAccounts(e.App, e.Record); err != nil {
			return err
		}
		return e.Next()
	})

	// Every account's JSON names its role; customers also show isVerified.
	app.OnRecordEnrich(policy.Users).BindFunc(func(e *core.RecordEnrichEvent) error {
		ShapeAccount(e.Record)
		return e.Next()
	})
}

// ShapeAccount adds the computed fields of an account's JSON.
func ShapeAccount(r *core.Record) {
	if r.Collection().Name != policy.Users {
		return
	}
	r.WithCustomData(true)
	r.Set("role", policy.RoleUser)
	r.Set("isVerified", r.Verified())
}

// uniqueAcrossAccounts refuses a userName or email that another account of
// either collection already has (case-insensitively).
func uniqueAcrossAccounts(app core.App, r *core.Record) error {
	errs := validation.Errors{}
	for _, name := range []string{policy.Users, policy.Admins} {
		for _, field := range []string{"userName", "email"} {
			value := strings.TrimSpace(r.GetString(field))
			if value == "" || errs[field] != nil {
				continue
			}
			if store.AccountFieldTaken(app, name, field, value, r.Id) {
				errs[field] = validation.NewError("validation_not_unique", "This "+field+" is already taken.")
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
