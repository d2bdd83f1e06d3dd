package routes

import (
	"database/sql"
	"errors"
	"net/http"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/hooks"
	"ticketportal/policy"
	"ticketportal/store"
)

// The routes that work a ticket: answer it, take it, close it, flag it.
// Each decision on the ticket's state is made by the store inside the
// transaction that writes it.

func sendAnswerOnTicket(e *core.RequestEvent) error {
	t, err := findTicket(e, nil) // any agent may answer any ticket; closed ones are a 409 below
	if err != nil {
		return err
	}
	var in struct {
		Answer *string `json:"answer"`
	}
	up, err := readBody(e, &in) // JSON, or a form with files
	defer up.cleanup()
	if err != nil {
		return err
	}
	if err := checkText(in.Answer, maxText); err != nil {
		return e.BadRequestError("The answer is not valid.", validation.Errors{"answer": err})
	}
	// the answer's hooks update the ticket, write the history line and queue
	// the customer's mail in the answer's transaction
	if _, err := store.AddAnswer(e.App, t.Id, e.Auth.Id, *in.Answer, up.files...); err != nil {
		return ticketError(e, err)
	}
	t, err = e.App.FindRecordById(policy.Tickets, t.Id)
	if err != nil {
		return ticketError(e, err)
	}
	if err := shape(e, t); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, ticketResponse{Message: "Your answer has been sent.", Data: t})
}

func markTicketStatus(e *core.RequestEvent) error {
	t, err := findTicket(e, nil) // closed tickets are answered below (no-op or 409)
	if err != nil {
		return err
	}
	var in struct {
		Status *string `json:"status"`
	}
	if err := readJSON(e, &in); err != nil {
		return err
	}
	marks := map[string]store.Mark{"markAsTaken": store.Take, "markAsClosed": store.Close, "markAsReleased": store.Release, "markAsReopened": store.Reopen}
	const one = "Must be markAsTaken, markAsClosed, markAsReleased or markAsReopened."
	if in.Status == nil || *in.Status == "" {
		return fieldError(e, "The status is missing.", "status", "validation_required", one)
	}
	m, ok := marks[*in.Status]
	if !ok {
		return fieldError(e, "The status must be markAsTaken, markAsClosed, markAsReleased or markAsReopened.", "status", "validation_invalid_value", one)
	}
	superAdmin := policy.Can(e.Auth, policy.MarkHighPriority) // superAdmins and operators
	switch m {
	case store.Reopen:
		if !superAdmin {
			return e.ForbiddenError("Only a superAdmin may reopen a ticket.", nil)
		}
	case store.Release:
		if _, err := store.ReleaseTicket(e.App, t.Id, e.Auth.Id, superAdmin); err != nil {
			return ticketError(e, err)
		}
		return e.JSON(http.StatusOK, markResponse{Message: "The ticket is free.", TicketId: t.Id, TicketStatus: string(m)})
	}
	return mark(e, t.Id, m)
}

func markAsHighPriority(e *core.RequestEvent) error {
	t, err := findTicket(e, nil)
	if err != nil {
		return err
	}
	if err := readJSON(e, &struct{}{}); err != nil {
		return err
	}
	return mark(e, t.Id, store.Prioritize)
}

// mark applies m in the caller's name and answers with the ticket's new
// state; a mark that changes nothing is a 200 too.
func mark(e *core.RequestEvent, ticketId string, m store.Mark) error {
	if _, err := store.MarkTicket(e.App, ticketId, m, e.Auth.Id); err != nil {
		return ticketError(e, err)
	}
	messages := map[store.Mark]string{
		store.Take:       "The ticket is taken by you.",
		store.Close:      "The ticket is closed.",
		store.Prioritize: "The ticket is now high priority.",
		store.Reopen:     "The ticket is reopened.",
	}
	return e.JSON(http.StatusOK, markResponse{Message: messages[m], TicketId: ticketId, TicketStatus: string(m)})
}

// ticketError turns the store's refusals into responses: 404 for a ticket
// that is gone, 409 for a closed or held one, 401 for a caller whose account
// was deleted meanwhile (the database refused it as a holder).
func ticketError(e *core.RequestEvent, err error) error {
	var held *store.HeldError
	var files *store.FileLimitError
	if errors.As(err, &files) {
		return hooks.FilesError(err)
	}
	if ie := store.IntegrityErrorOf(err); ie != nil {
		switch ie.Field {
		case "ticket":
			return e.NotFoundError("There is no ticket with this id.", nil)
		case "takenBy":
			return e.UnauthorizedError("Your account no longer exists.", nil)
		}
		return ie.ApiError()
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return e.NotFoundError("There is no ticket with this id.", nil)
	case errors.Is(err, store.ErrClosed):
		return e.Error(http.StatusConflict, "This ticket is closed.", nil)
	case errors.Is(err, store.ErrNotHolder):
		return e.ForbiddenError("Only the admin holding this ticket or a superAdmin may release it.", nil)
	case errors.As(err, &held):
		return e.Error(http.StatusConflict, "This ticket is already taken by "+holderName(e.App, held.By)+".", nil)
	}
	return e.InternalServerError("", err)
}

// holderName names the account holding a ticket for other agents.
func holderName(app core.App, id string) string {
	if a, err := app.FindRecordById(policy.Admins, id); err == nil {
		return a.GetString("userName")
	}
	if _, err := app.FindRecordById(core.CollectionNameSuperusers, id); err == nil {
		return "an operator"
	}
	return "another admin"
}
