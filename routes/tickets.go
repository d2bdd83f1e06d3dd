package routes

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/mail"
	"ticketportal/policy"
	"ticketportal/store"
)

// bindTickets lists the tickets routes.
func bindTickets(se *core.ServeEvent) {
	r := se.Router
	r.POST("/sendTicket", sendTicket).BindFunc(require(policy.SendTicket))
	r.GET("/getUserTickets", getUserTickets).BindFunc(require(policy.ListOwnTickets))
	r.GET("/getAllActiveTickets", getAllActiveTickets).BindFunc(require(policy.ListActive))
	r.GET("/getAllClosedTickets", getAllClosedTickets).BindFunc(require(policy.ListClosed))
	r.GET("/searchForTicket/{ticketId}", searchForTicket).BindFunc(require(policy.ReadAnyTicket))
	r.PATCH("/sendAnswerOnTicket/{ticketId}", sendAnswerOnTicket).BindFunc(require(policy.AnswerTicket))
	r.DELETE("/deleteSpecificTicket/{ticketId}", deleteSpecificTicket).BindFunc(require(policy.DeleteTicket))
	r.PATCH("/markTicketStatus/{ticketId}", markTicketStatus).BindFunc(require(policy.MarkTakenOrClosed))
	r.PATCH("/markAsHighPriority/{ticketId}", markAsHighPriority).BindFunc(require(policy.MarkHighPriority))
}

// maxText is the longest ticket or answer, in characters.
const maxText = 10000

// ticketResponse is the answer of the routes that return one ticket.
type ticketResponse struct {
	Message  string       `json:"message"`
	TicketId string       `json:"ticketId,omitzero"`
	Data     *core.Record `json:"data"`
}

// markResponse is the answer of the routes that mark a ticket.
type markResponse struct {
	Message      string `json:"message"`
	TicketId     string `json:"ticketId"`
	TicketStatus string `json:"ticketStatus"`
}

func sendTicket(e *core.RequestEvent) error {
	if !e.Auth.Verified() {
		return e.ForbiddenError("Verify your email address before sending a ticket.", nil)
	}
	var in struct {
		TicketContent     *string `json:"ticketContent"`
		CustomerFirstName *string `json:"customerFirstName"`
		CustomerLastName  *string `json:"customerLastName"`
	}
	if err := readJSON(e, &in); err != nil {
		return err
	}
	errs := validation.Errors{}
	if err := checkText(in.TicketContent, maxText); err != nil {
		errs["ticketContent"] = err
	}
	first, err := optionalName(in.CustomerFirstName, e.Auth.GetString("userFirstName"))
	if err != nil {
		errs["customerFirstName"] = err
	}
	last, err := optionalName(in.CustomerLastName, e.Auth.GetString("userLastName"))
	if err != nil {
		errs["customerLastName"] = err
	}
	if len(errs) > 0 {
		return e.BadRequestError("The ticket is not valid.", errs)
	}

	col, err := e.App.FindCachedCollectionByNameOrId(policy.Tickets)
	if err != nil {
		return e.InternalServerError("", err)
	}
	t := core.NewRecord(col)
	t.Set("customerId", e.Auth.Id)
	t.Set("ticketContent", *in.TicketContent)
	t.Set("customerFirstName", first)
	t.Set("customerLastName", last)
	if err := e.App.Save(t); err != nil {
		return e.BadRequestError("The ticket could not be saved.", err)
	}
	if err := store.AttachAnswers(e.App, t); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusCreated, ticketResponse{Message: "Your ticket has been sent.", TicketId: t.Id, Data: t})
}

// checkText validates a required text of 1 to max characters that is not
// only white space.
func checkText(s *string, max int) error {
	switch {
	case s == nil || *s == "":
		return validation.NewError("validation_required", "Cannot be blank.")
	case strings.TrimSpace(*s) == "":
		return validation.NewError("validation_blank", "Cannot be only white space.")
	case utf8.RuneCountInString(*s) > max:
		return validation.NewError("validation_length_too_long", "Must be at most 10000 characters.")
	}
	return nil
}

// optionalName returns the name given, or fallback when none (or only white
// space) is given; a given name is at most 100 characters.
func optionalName(s *string, fallback string) (string, error) {
	if s == nil || strings.TrimSpace(*s) == "" {
		return fallback, nil
	}
	name := strings.TrimSpace(*s)
	if utf8.RuneCountInString(name) > 100 {
		return "", validation.NewError("validation_length_too_long", "Must be at most 100 characters.")
	}
	return name, nil
}

// attachAnswers is a list shape: every ticket of a page gets its answers in
// one query.
func attachAnswers(app core.App, page []*core.Record) error {
	return store.AttachAnswers(app, page...)
}

func getUserTickets(e *core.RequestEvent) error {
	return respondList(e, "Your tickets.", listQuery{
		collection: policy.Tickets,
		where:      dbx.HashExp{"customerId": e.Auth.Id},
		countKey:   store.CountKeyCustomer(e.Auth.Id),
		orderBy:    []string{"createdAt DESC", "rowid DESC"},
		shape:      attachAnswers,
	})
}

func getAllActiveTickets(e *core.RequestEvent) error {
	return respondList(e, "Active tickets.", listQuery{
		collection: policy.Tickets,
		where:      dbx.HashExp{"ticketStatus": policy.StatusActive},
		countKey:   store.CountKeyStatus(policy.StatusActive),
		orderBy:    []string{"isHighPriority DESC", "createdAt DESC", "rowid DESC"},
		shape:      attachAnswers,
	})
}

func getAllClosedTickets(e *core.RequestEvent) error {
	return respondList(e, "Closed tickets.", listQuery{
		collection: policy.Tickets,
		where:      dbx.HashExp{"ticketStatus": policy.StatusClosed},
		countKey:   store.CountKeyStatus(policy.StatusClosed),
		orderBy:    []string{"createdAt DESC", "rowid DESC"},
		shape:      attachAnswers,
	})
}

// callerInfo is the request info the collection rules are checked with (the
// rules used here look at the caller only, never at the body).
func callerInfo(e *core.RequestEvent) *core.RequestInfo {
	return &core.RequestInfo{
		Auth:    e.Auth,
		Method:  e.Request.Method,
		Context: core.RequestInfoContextDefault,
		Query:   map[string]string{},
		Headers: map[string]string{},
		Body:    map[string]any{},
	}
}

// findTicket loads the ticket of the path and checks rule on it for the
// caller: a missing ticket or one the rule hides is a 404.
func findTicket(e *core.RequestEvent, rule func(*core.Collection) *string) (*core.Record, error) {
	t, err := e.App.FindRecordById(policy.Tickets, e.Request.PathValue("ticketId"))
	if err != nil {
		return nil, e.NotFoundError("There is no ticket with this id.", nil)
	}
	if rule != nil {
		if ok, err := e.App.CanAccessRecord(t, callerInfo(e), rule(t.Collection())); err != nil || !ok {
			return nil, e.NotFoundError("There is no ticket with this id.", nil)
		}
	}
	return t, nil
}

func viewRule(c *core.Collection) *string   { return c.ViewRule }
func deleteRule(c *core.Collection) *string { return c.DeleteRule }

func searchForTicket(e *core.RequestEvent) error {
	t, err := findTicket(e, viewRule)
	if err != nil {
		return err
	}
	if err := store.AttachAnswers(e.App, t); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, ticketResponse{Message: "Ticket found.", Data: t})
}

func deleteSpecificTicket(e *core.RequestEvent) error {
	t, err := findTicket(e, deleteRule)
	if err != nil {
		return err
	}
	if err := readJSON(e, &struct{}{}); err != nil {
		return err
	}
	if err := e.App.Delete(t); err != nil { // its answers go with it (cascade)
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]string{"message": "The ticket has been deleted."})
}

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
// that is gone, 409 for a closed or held one.
func ticketError(e *core.RequestEvent, err error) error {
	var held *store.HeldError
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
