package routes

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/realtime"
	"ticketportal/settings"
	"ticketportal/store"
)

// The conversation's routes. Each one
// finds the ticket through the tickets' view rule (a ticket the caller may
// not see is a 404, never a 403) and writes through the store; the record
// hooks add the history, the derived fields and the mail in the same
// transaction.

func bindConversation(se *core.ServeEvent) {
	r := se.Router
	r.GET("/getTicket/{ticketId}", getTicket).BindFunc(require(policy.ViewTicket))
	r.POST("/replyOnTicket/{ticketId}", replyOnTicket).BindFunc(require(policy.ReplyTicket)).Bind(apis.BodyLimit(0)) // readBody bounds it
	r.POST("/addNoteOnTicket/{ticketId}", addNoteOnTicket).BindFunc(require(policy.NoteTicket)).Bind(apis.BodyLimit(0))
	r.PATCH("/assignTicket/{ticketId}", assignTicket).BindFunc(require(policy.AssignTicket))
	r.PATCH("/tagTicket/{ticketId}", tagTicket).BindFunc(require(policy.TagTicket))
	r.GET("/getTicketHistory/{ticketId}", getTicketHistory).BindFunc(require(policy.ViewHistory))
	r.POST("/viewingTicket/{ticketId}", viewingTicket).BindFunc(require(policy.ViewingTicket))
}

// respondTicket answers with one ticket as the caller may see it.
func respondTicket(e *core.RequestEvent, status int, message string, t *core.Record) error {
	if err := shape(e, t); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(status, ticketResponse{Message: message, Data: t})
}

func getTicket(e *core.RequestEvent) error {
	t, err := findTicket(e, viewRule)
	if err != nil {
		return err
	}
	return respondTicket(e, http.StatusOK, "Ticket found.", t)
}

func replyOnTicket(e *core.RequestEvent) error {
	t, err := findTicket(e, viewRule) // a customer sees only its own tickets
	if err != nil {
		return err
	}
	var in struct {
		Reply *string `json:"reply"`
	}
	up, err := readBody(e, &in) // JSON, or a form with files
	defer up.cleanup()
	if err != nil {
		return err
	}
	if err := checkText(in.Reply, maxText); err != nil {
		return e.BadRequestError("The reply is not valid.", validation.Errors{"reply": err})
	}
	ticket, followUp, err := store.Reply(e.App, t.Id, e.Auth.Id, *in.Reply, settings.Get(e.App).ReopenWindowDays, time.Now(), up.files...)
	if err != nil {
		return ticketError(e, err)
	}
	if followUp {
		return respondTicket(e, http.StatusCreated, "The ticket was closed too long ago to reopen: your reply opened a new ticket that continues it.", ticket)
	}
	if t.GetString("ticketStatus") == policy.StatusClosed {
		return respondTicket(e, http.StatusCreated, "Your reply has been added and the ticket is reopened.", ticket)
	}
	return respondTicket(e, http.StatusCreated, "Your reply has been added.", ticket)
}

func addNoteOnTicket(e *core.RequestEvent) error {
	t, err := findTicket(e, viewRule) // an admin notes on active tickets, a superAdmin on any
	if err != nil {
		return err
	}
	var in struct {
		Note *string `json:"note"`
	}
	up, err := readBody(e, &in) // JSON, or a form with files
	defer up.cleanup()
	if err != nil {
		return err
	}
	if err := checkText(in.Note, maxText); err != nil {
		return e.BadRequestError("The note is not valid.", validation.Errors{"note": err})
	}
	if _, err := store.AddMessage(e.App, t.Id, policy.KindNote, e.Auth.Id, *in.Note, up.files...); err != nil {
		return ticketError(e, err)
	}
	if t, err = e.App.FindRecordById(policy.Tickets, t.Id); err != nil {
		return ticketError(e, err)
	}
	return respondTicket(e, http.StatusCreated, "Your note has been added.", t)
}

func assignTicket(e *core.RequestEvent) error {
	t, err := findTicket(e, nil) // a superAdmin sees every ticket
	if err != nil {
		return err
	}
	var in struct {
		AdminId *string `json:"adminId"`
	}
	if err := readJSON(e, &in); err != nil {
		return err
	}
	if in.AdminId == nil {
		return fieldError(e, "The adminId is missing.", "adminId", "validation_required", `Must be an admin's id, or "" to free the ticket.`)
	}
	if *in.AdminId != "" {
		if _, err := e.App.FindRecordById(policy.Admins, *in.AdminId); err != nil {
			return fieldError(e, "There is no admin with this id.", "adminId", "validation_unknown_admin", "Must be the id of an admin or superAdmin.")
		}
	}
	if _, err := store.AssignTicket(e.App, t.Id, *in.AdminId, e.Auth.Id); err != nil {
		return ticketError(e, err)
	}
	if t, err = e.App.FindRecordById(policy.Tickets, t.Id); err != nil {
		return ticketError(e, err)
	}
	message := "The ticket is assigned to " + t.GetString("takenByName") + "."
	if *in.AdminId == "" {
		message = "The ticket is free."
	}
	return respondTicket(e, http.StatusOK, message, t)
}

func tagTicket(e *core.RequestEvent) error {
	t, err := findTicket(e, viewRule)
	if err != nil {
		return err
	}
	var in struct {
		Add    []string `json:"add"`
		Remove []string `json:"remove"`
	}
	if err := readJSON(e, &in); err != nil {
		return err
	}
	errs := validation.Errors{}
	normalize := func(name string, tags []string) []string {
		if len(tags) > policy.MaxTags {
			errs[name] = validation.NewError("validation_too_many_tags", "At most 10 tags at once.")
			return nil
		}
		out := []string{}
		for _, tag := range tags {
			n, err := policy.NormalizeTag(tag)
			if err != nil {
				errs[name] = validation.NewError("validation_invalid_tag", "Each tag is 1 to 30 of a-z 0-9 - _ (lowercased).")
				return nil
			}
			out = append(out, n)
		}
		return out
	}
	add, remove := normalize("add", in.Add), normalize("remove", in.Remove)
	if len(errs) > 0 {
		return e.BadRequestError("The tags are not valid.", errs)
	}
	t, err = store.TagTicket(e.App, t.Id, add, remove, e.Auth.Id)
	if errors.Is(err, store.ErrTooManyTags) {
		return fieldError(e, "A ticket has at most 10 tags.", "add", "validation_too_many_tags", "A ticket has at most 10 tags.")
	}
	if err != nil {
		return ticketError(e, err)
	}
	return respondTicket(e, http.StatusOK, "The tags are saved.", t)
}

func getTicketHistory(e *core.RequestEvent) error {
	t, err := findTicket(e, viewRule)
	if err != nil {
		return err
	}
	p, errs := parsePage(e.Request.URL.Query())
	if errs != nil {
		return e.BadRequestError("The page and limit parameters must be whole numbers of at least 1.", errs)
	}
	lines, total, err := store.History(e.App, t.Id, p.offset(), int64(p.Limit))
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, listResponse{
		Message: "The ticket's history.", Data: lines, Page: p.Page, NumOfItems: len(lines),
		TotalNumOfItems: total, NumOfPages: p.numOfPages(total),
	})
}

func viewingTicket(e *core.RequestEvent) error {
	t, err := findTicket(e, viewRule)
	if err != nil {
		return err
	}
	var in struct {
		Typing *bool `json:"typing"`
	}
	if err := readJSON(e, &in); err != nil {
		return err
	}
	name := e.Auth.GetString("userName")
	if policy.RoleOf(e.Auth) == policy.RoleOperator {
		name = "operator"
	}
	realtime.AnnounceViewing(e.App, t.Id, e.Auth.Id, name, in.Typing != nil && *in.Typing)
	return e.NoContent(http.StatusNoContent)
}

var takenByPattern = regexp.MustCompile(`^[a-z0-9]{15}$`)

// queueFilter reads the staff lists' ?tag (both lists) and, on the active
// list, ?waitingOn and ?takenBy; a bad value is reported under its name.
func queueFilter(e *core.RequestEvent, activeList bool) (store.QueueFilter, error) {
	q := e.Request.URL.Query()
	var f store.QueueFilter
	if q.Has("tag") {
		tag, err := policy.NormalizeTag(q.Get("tag"))
		if err != nil {
			return f, fieldError(e, "The tag parameter is not a tag.", "tag", "validation_invalid_tag", "Must be 1 to 30 of a-z 0-9 - _.")
		}
		f.Tag = tag
	}
	if !activeList {
		return f, nil
	}
	if q.Has("waitingOn") {
		switch v := q.Get("waitingOn"); v {
		case policy.WaitingOnAgent, policy.WaitingOnCustomer:
			f.WaitingOn = v
		default:
			return f, fieldError(e, "The waitingOn parameter must be agent or customer.", "waitingOn", "validation_invalid_value", "Must be agent or customer.")
		}
	}
	if q.Has("takenBy") {
		switch v := q.Get("takenBy"); {
		case v == "none":
			f.TakenBy = store.TakenByNone
		case v == "me":
			f.TakenBy = e.Auth.Id
		case takenByPattern.MatchString(v):
			if _, err := e.App.FindRecordById(policy.Admins, v); err != nil {
				return f, fieldError(e, "There is no admin with this id.", "takenBy", "validation_unknown_admin", "Must be an admin's id, none or me.")
			}
			f.TakenBy = v
		default:
			return f, fieldError(e, "The takenBy parameter must be an admin's id, none or me.", "takenBy", "validation_invalid_value", "Must be an admin's id, none or me.")
		}
	}
	// ?sort=due (soonest service-level deadline first) belongs to the
	// service-level work: it reads its parameter here and adds its order.
	return f, nil
}
