package routes

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/hooks"
	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/throttle"
)

// bindTickets lists the tickets routes.
func bindTickets(se *core.ServeEvent) {
	r := se.Router
	r.POST("/sendTicket", sendTicket).BindFunc(require(policy.SendTicket)).Bind(apis.BodyLimit(0)) // readBody bounds it
	r.GET("/getUserTickets", getUserTickets).BindFunc(require(policy.ListOwnTickets))
	r.GET("/getAllActiveTickets", getAllActiveTickets).BindFunc(require(policy.ListActive))
	r.GET("/getAllClosedTickets", getAllClosedTickets).BindFunc(require(policy.ListClosed))
	r.GET("/searchForTicket/{ticketId}", searchForTicket).BindFunc(require(policy.ReadAnyTicket))
	r.PATCH("/sendAnswerOnTicket/{ticketId}", sendAnswerOnTicket).BindFunc(require(policy.AnswerTicket)).Bind(apis.BodyLimit(0))
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
		TicketSubject     *string `json:"ticketSubject"`
		CustomerFirstName *string `json:"customerFirstName"`
		CustomerLastName  *string `json:"customerLastName"`
	}
	up, err := readBody(e, &in) // JSON, or a form with files
	defer up.cleanup()
	if err != nil {
		return err
	}
	errs := validation.Errors{}
	if err := checkText(in.TicketContent, maxText); err != nil {
		errs["ticketContent"] = err
	}
	subject, err := optionalSubject(in.TicketSubject)
	if err != nil {
		errs["ticketSubject"] = err
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

	// one budget per customer with the record and batch APIs' creates
	if err := throttle.TakeTicket(e, e.Auth); err != nil {
		return err
	}
	col, err := e.App.FindCachedCollectionByNameOrId(policy.Tickets)
	if err != nil {
		return e.InternalServerError("", err)
	}
	t := core.NewRecord(col)
	t.Set("customerId", e.Auth.Id)
	t.Set("ticketContent", *in.TicketContent)
	t.Set("ticketSubject", subject) // "" = the hook's default, the first line
	t.Set("customerFirstName", first)
	t.Set("customerLastName", last)
	if err := store.AttachFiles(e.App, t, up.files); err != nil {
		return hooks.FilesError(err)
	}
	if err := e.App.Save(t); err != nil {
		return e.BadRequestError("The ticket could not be saved.", err)
	}
	if err := shape(e, t); err != nil {
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

// optionalSubject checks a given ticketSubject (at most 200 characters, one
// line); none or only white space gives "" (the default subject).
func optionalSubject(s *string) (string, error) {
	if s == nil {
		return "", nil
	}
	subject := strings.TrimSpace(*s)
	switch {
	case utf8.RuneCountInString(subject) > policy.MaxSubject:
		return "", validation.NewError("validation_length_too_long", "Must be at most 200 characters.")
	case strings.ContainsAny(subject, "\r\n"):
		return "", validation.NewError("validation_invalid_subject", "Must be one line.")
	}
	return subject, nil
}

// shape makes tickets what the caller may see: the conversation (notes for
// staff only) and, for a customer, no staff-only fields (store.ShapeTickets,
// which the record API and realtime use too).
func shape(e *core.RequestEvent, tickets ...*core.Record) error {
	if err := store.ShapeTickets(e.App, policy.IsStaff(e.Auth), tickets...); err != nil {
		return err
	}
	store.ShapeFiles(fileToken(e), tickets...) // the files, with the caller's file token
	return nil
}

// shapePage is shape as a list shape: every ticket of a page gets its
// messages in one query.
func shapePage(e *core.RequestEvent) func(core.App, []*core.Record) error {
	return func(_ core.App, page []*core.Record) error { return shape(e, page...) }
}

func getUserTickets(e *core.RequestEvent) error {
	return respondList(e, "Your tickets.", listQuery{
		collection: policy.Tickets,
		where:      dbx.HashExp{"customerId": e.Auth.Id},
		countKey:   store.CountKeyCustomer(e.Auth.Id),
		orderBy:    []string{"createdAt DESC", "rowid DESC"},
		shape:      shapePage(e),
	})
}

func getAllActiveTickets(e *core.RequestEvent) error {
	f, err := queueFilter(e, true)
	if err != nil {
		return err
	}
	q := listQuery{
		collection: policy.Tickets,
		where:      filtered(dbx.HashExp{"ticketStatus": policy.StatusActive}, f),
		countKey:   countKeyUnless(f, store.CountKeyStatus(policy.StatusActive)),
		orderBy:    []string{"isHighPriority DESC", "createdAt DESC", "rowid DESC"},
		shape:      shapePage(e),
	}
	if err := activeQueueOrder(e, &q, f); err != nil {
		return err
	}
	return respondList(e, "Active tickets.", q)
}

func getAllClosedTickets(e *core.RequestEvent) error {
	f, err := queueFilter(e, false)
	if err != nil {
		return err
	}
	return respondList(e, "Closed tickets.", listQuery{
		collection: policy.Tickets,
		where:      filtered(dbx.HashExp{"ticketStatus": policy.StatusClosed}, f),
		countKey:   countKeyUnless(f, store.CountKeyStatus(policy.StatusClosed)),
		orderBy:    []string{"createdAt DESC", "rowid DESC"},
		shape:      shapePage(e),
	})
}

// filtered adds the list filters to a list's condition.
func filtered(where dbx.Expression, f store.QueueFilter) dbx.Expression {
	if w := f.Where(); w != nil {
		return dbx.And(where, w)
	}
	return where
}

// countKeyUnless is the list's counter when no filter narrows it (a
// filtered list is counted).
func countKeyUnless(f store.QueueFilter, key string) string {
	if f.Empty() {
		return key
	}
	return ""
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
	if err := shape(e, t); err != nil {
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
