package routes

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/mail"
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
	if err := readJSON(e, &in); err != nil {
		return err
	}
	if err := checkText(in.Answer, maxText); err != nil {
		return e.BadRequestError("The answer is not valid.", validation.Errors{"answer": err})
	}
	answer, err := store.AddAnswer(e.App, t.Id, e.Auth.Id, *in.Answer)
	if err != nil {
		return ticketError(e, err)
	}
	t, err = e.App.FindRecordById(policy.Tickets, t.Id)
	if err != nil {
		return ticketError(e, err)
	}
	if err := store.AttachAnswers(e.App, t); err != nil {
		return e.InternalServerError("", err)
	}
	mailAnswer(e.App, t, answer)
	return e.JSON(http.StatusOK, ticketResponse{Message: "Your answer has been sent.", Data: t})
}

// mailAnswer tells the ticket's customer about a new answer, in the
// background: a slow or broken mail server never holds up or fails the
// answer.
func mailAnswer(app core.App, ticket, answer *core.Record) {
	to := ticket.GetString("userEmail")
	if customer, err := app.FindRecordById(policy.Users, ticket.GetString("customerId")); err == nil {
		to = customer.Email()
	}
	if to == "" {
		return
	}
	msg, err := mail.Build(app, to, "ticket_answer", map[string]any{
		"name":     ticket.GetString("customerFirstName"),
		"ticketId": ticket.Id,
		"ticket":   excerpt(ticket.GetString("ticketContent"), 200),
		"answer":   answer.GetString("answer"),
	})
	if err != nil {
		app.Logger().Error("answer mail failed", "ticket", ticket.Id, "error", err)
		return
	}
	mail.Deliver(app, msg)
}

// excerpt shortens s to at most n characters.
func excerpt(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return strings.TrimSpace(string(r[:n])) + "…"
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
	marks := map[string]store.Mark{"markAsTaken": store.Take, "markAsClosed": store.Close}
	if in.Status == nil || *in.Status == "" {
		return fieldError(e, "The status is missing.", "status", "validation_required", "Must be markAsTaken or markAsClosed.")
	}
	m, ok := marks[*in.Status]
	if !ok {
		return fieldError(e, "The status must be markAsTaken or markAsClosed.", "status", "validation_invalid_value", "Must be markAsTaken or markAsClosed.")
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
	}
	return e.JSON(http.StatusOK, markResponse{Message: messages[m], TicketId: ticketId, TicketStatus: string(m)})
}

// ticketError turns the store's refusals into responses: 404 for a ticket
// that is gone, 409 for a closed or held one, 401 for a caller whose account
// was deleted meanwhile (the database refused it as a holder).
func ticketError(e *core.RequestEvent, err error) error {
	var held *store.HeldError
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
