package hooks

import (
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/validate"
)

// personFields are the customers' fields checked by package validate on
// every save, whatever path writes them (custom routes, record API, batch
// API, dashboard), beyond what the collection's field settings check.
var personFields = map[string][]validation.Rule{
	"userFirstName": validate.PersonNameRules,
	"userLastName":  validate.PersonNameRules,
	"mobileNumber":  validate.MobileRules,
}

func bindAccountRules(app core.App) {
	bindTicketNameRules(app)

	// Account fields follow package validate on every path: names with a
	// visible character and no format (Cf) characters, mobile numbers with
	// digits, and new passwords of at most 72 bytes (every auth collection,
	// operators' too). A value saved before these rules is checked again
	// only when it changes.
	app.OnRecordValidate().BindFunc(func(e *core.RecordEvent) error {
		if !e.Record.Collection().IsAuth() {
			return e.Next()
		}
		errs := validation.Errors{}
		if err := store.CheckNewPassword(e.Record); err != nil {
			if fe, ok := err.(validation.Errors); ok {
				for k, v := range fe {
					errs[k] = v
				}
			}
		}
		if e.Record.Collection().Name == policy.Users {
			for field, rules := range personFields {
				value := e.Record.GetString(field)
				if !e.Record.IsNew() && value == e.Record.Original().GetString(field) {
					continue
				}
				if err := validate.Field(value, rules); err != nil {
					errs[field] = err
				}
			}
		}
		if len(errs) > 0 {
			return errs
		}
		return e.Next()
	})
}

// ticketNameFields are the customer names a ticket carries (given on
// /sendTicket or the record API, else copied from the profile); they are
// shown in the console, so they follow the same name rules.
var ticketNameFields = []string{"customerFirstName", "customerLastName"}

func bindTicketNameRules(app core.App) {
	app.OnRecordValidate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		errs := validation.Errors{}
		for _, field := range ticketNameFields {
			value := e.Record.GetString(field)
			if value == "" || (!e.Record.IsNew() && value == e.Record.Original().GetString(field)) {
				continue
			}
			if err := validate.Field(value, validate.PersonNameRules); err != nil {
				errs[field] = err
			}
		}
		if len(errs) > 0 {
			return errs
		}
		return e.Next()
	})
}
