package store

import (
	"errors"
	"net/http"
	"regexp"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// The portal's integrity invariants are kept by SQLite triggers, checked in
// the statement that writes, whatever path made it (custom routes, record
// API, batch, dashboard). PocketBase's relation fields have no SQL foreign
// keys and its own checks (relation existence, the cross-account
// uniqueness hook) run before the write's transaction; SQLite runs writers
// one at a time, so a trigger's check cannot be raced. See docs/integrity.md.
//
// A refused write fails with "integrity:<what>", which IntegrityErrorOf turns
// into an *IntegrityError.

// integrityDDL creates the triggers; it is idempotent.
const integrityDDL = `
CREATE TRIGGER IF NOT EXISTS integrity_users_insert BEFORE INSERT ON users BEGIN
	SELECT RAISE(ABORT, 'integrity:userName') WHERE EXISTS (SELECT 1 FROM admins WHERE userName = NEW.userName COLLATE NOCASE);
	SELECT RAISE(ABORT, 'integrity:email') WHERE NEW.email != '' AND EXISTS (SELECT 1 FROM admins WHERE email = NEW.email COLLATE NOCASE);
END;

CREATE TRIGGER IF NOT EXISTS integrity_users_update BEFORE UPDATE OF userName, email ON users BEGIN
	SELECT RAISE(ABORT, 'integrity:userName') WHERE NEW.userName IS NOT OLD.userName
		AND EXISTS (SELECT 1 FROM admins WHERE userName = NEW.userName COLLATE NOCASE);
	SELECT RAISE(ABORT, 'integrity:email') WHERE NEW.email IS NOT OLD.email AND NEW.email != ''
		AND EXISTS (SELECT 1 FROM admins WHERE email = NEW.email COLLATE NOCASE);
END;

CREATE TRIGGER IF NOT EXISTS integrity_admins_insert BEFORE INSERT ON admins BEGIN
	SELECT RAISE(ABORT, 'integrity:userName') WHERE EXISTS (SELECT 1 FROM users WHERE userName = NEW.userName COLLATE NOCASE);
	SELECT RAISE(ABORT, 'integrity:email') WHERE NEW.email != '' AND EXISTS (SELECT 1 FROM users WHERE email = NEW.email COLLATE NOCASE);
END;

CREATE TRIGGER IF NOT EXISTS integrity_admins_update BEFORE UPDATE OF userName, email ON admins BEGIN
	SELECT RAISE(ABORT, 'integrity:userName') WHERE NEW.userName IS NOT OLD.userName
		AND EXISTS (SELECT 1 FROM users WHERE userName = NEW.userName COLLATE NOCASE);
	SELECT RAISE(ABORT, 'integrity:email') WHERE NEW.email IS NOT OLD.email AND NEW.email != ''
		AND EXISTS (SELECT 1 FROM users WHERE email = NEW.email COLLATE NOCASE);
END;

CREATE TRIGGER IF NOT EXISTS integrity_tickets_insert BEFORE INSERT ON tickets BEGIN
	SELECT RAISE(ABORT, 'integrity:customerId') WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.customerId);
	SELECT RAISE(ABORT, 'integrity:takenBy') WHERE COALESCE(NEW.takenBy, '') != ''
		AND NOT EXISTS (SELECT 1 FROM admins WHERE id = NEW.takenBy) AND NOT EXISTS (SELECT 1 FROM _superusers WHERE id = NEW.takenBy);
END;

CREATE TRIGGER IF NOT EXISTS integrity_tickets_update BEFORE UPDATE OF customerId, takenBy ON tickets BEGIN
	SELECT RAISE(ABORT, 'integrity:customerId') WHERE NEW.customerId IS NOT OLD.customerId
		AND NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.customerId);
	SELECT RAISE(ABORT, 'integrity:takenBy') WHERE COALESCE(NEW.takenBy, '') != '' AND NEW.takenBy IS NOT OLD.takenBy
		AND NOT EXISTS (SELECT 1 FROM admins WHERE id = NEW.takenBy) AND NOT EXISTS (SELECT 1 FROM _superusers WHERE id = NEW.takenBy);
END;

CREATE TRIGGER IF NOT EXISTS integrity_admins_delete AFTER DELETE ON admins BEGIN
	UPDATE tickets SET takenBy = '', isTaken = FALSE WHERE takenBy = OLD.id AND ticketStatus = 'active';
END;

CREATE TRIGGER IF NOT EXISTS integrity_superusers_delete AFTER DELETE ON _superusers BEGIN
	UPDATE tickets SET takenBy = '', isTaken = FALSE WHERE takenBy = OLD.id AND ticketStatus = 'active';
END;

CREATE TRIGGER IF NOT EXISTS integrity_messages_insert BEFORE INSERT ON messages BEGIN
	SELECT RAISE(ABORT, 'integrity:ticket') WHERE NOT EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket);
END;
`

// IntegrityTriggers names every trigger of integrityDDL.
var IntegrityTriggers = []string{
	"integrity_users_insert", "integrity_users_update", "integrity_admins_insert", "integrity_admins_update",
	"integrity_tickets_insert", "integrity_tickets_update", "integrity_admins_delete", "integrity_superusers_delete",
	"integrity_messages_insert",
}

// EnsureIntegrity creates the integrity triggers that are missing (a fresh
// install, or a schema change that rebuilt a table and dropped its
// triggers). With every trigger in place it only reads sqlite_master.
func EnsureIntegrity(app core.App) error {
	var tables int
	err := app.DB().NewQuery(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'
		AND name IN ('users', 'admins', 'tickets', 'messages', '_superusers')`).Row(&tables)
	if err != nil || tables < 5 {
		return err // not migrated yet: the integrity migration creates them
	}
	var present int
	err = app.DB().NewQuery(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('` +
		strings.Join(IntegrityTriggers, "', '") + `')`).Row(&present)
	if err != nil {
		return err
	}
	if present == len(IntegrityTriggers) {
		return nil
	}
	_, err = app.DB().NewQuery(integrityDDL).Execute()
	return err
}

// IntegrityError is a write the triggers refused. It answers errors.As for
// validation.Errors with its field, so that the routes' save error mappers
// treat it as they treat PocketBase's own validation (a taken user name is
// validation_not_unique, a missing relation validation_missing_rel_records).
type IntegrityError struct {
	Field   string // userName, email, customerId, takenBy, ticket
	Status  int    // the HTTP status of the answer
	Message string // the answer's message
	Code    string // the field error's code
	Detail  string // the field error's message
}

func (e *IntegrityError) Error() string { return e.Message }

// As lets errors.As find the field error as validation.Errors.
func (e *IntegrityError) As(target any) bool {
	if t, ok := target.(*validation.Errors); ok {
		*t = e.Fields()
		return true
	}
	return false
}

// Fields is the field error of the refusal.
func (e *IntegrityError) Fields() validation.Errors {
	return validation.Errors{e.Field: validation.NewError(e.Code, e.Detail)}
}

// ApiError is the answer of the refusal.
func (e *IntegrityError) ApiError() *router.ApiError {
	return router.NewApiError(e.Status, e.Message, e.Fields())
}

var integrityErrors = map[string]IntegrityError{
	"userName":   {Status: http.StatusConflict, Message: "That user name is already taken.", Code: "validation_not_unique", Detail: "Already taken by another account."},
	"email":      {Status: http.StatusConflict, Message: "That email is already taken.", Code: "validation_not_unique", Detail: "Already taken by another account."},
	"customerId": {Status: http.StatusBadRequest, Message: "There is no customer with this id.", Code: "validation_missing_rel_records", Detail: "There is no customer with this id."},
	"takenBy":    {Status: http.StatusBadRequest, Message: "There is no agent with this id.", Code: "validation_missing_rel_records", Detail: "There is no agent with this id."},
	"ticket":     {Status: http.StatusBadRequest, Message: "There is no ticket with this id.", Code: "validation_missing_rel_records", Detail: "There is no ticket with this id."},
}

var integrityPattern = regexp.MustCompile(`integrity:([A-Za-z]+)`)

// IntegrityErrorOf returns the refusal an error of a write carries, or nil.
func IntegrityErrorOf(err error) *IntegrityError {
	if err == nil {
		return nil
	}
	var done *IntegrityError
	if errors.As(err, &done) {
		return done
	}
	m := integrityPattern.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	ie, ok := integrityErrors[m[1]]
	if !ok {
		return nil
	}
	ie.Field = m[1]
	return &ie
}
