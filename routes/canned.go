package routes

import (
	"net/http"
	"strings"
	"unicode/utf8"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
)

// bindCanned lists the canned reply routes.
func bindCanned(se *core.ServeEvent) {
	r := se.Router
	r.GET("/cannedReplies", listCannedReplies).BindFunc(require(policy.UseCanned))
	r.POST("/cannedReplies", createCannedReply).BindFunc(require(policy.UseCanned))
	r.PATCH("/cannedReplies/{id}", editCannedReply).BindFunc(require(policy.UseCanned))
	r.DELETE("/cannedReplies/{id}", deleteCannedReply).BindFunc(require(policy.UseCanned))
}

const maxCannedTitle = 100

// cannedResponse answers one canned reply.
type cannedResponse struct {
	Message string            `json:"message"`
	Data    store.CannedReply `json:"data"`
}

func listCannedReplies(e *core.RequestEvent) error {
	p, errs := parsePage(e.Request.URL.Query())
	if errs != nil {
		name := "page"
		if errs["page"] == nil {
			name = "limit"
		}
		return e.BadRequestError("The "+name+" parameter must be a whole number of at least 1.", errs)
	}
	q := e.Request.URL.Query().Get("q")
	if utf8.RuneCountInString(q) > maxCannedTitle || !utf8.ValidString(q) {
		return fieldError(e, "The q parameter must be at most 100 characters of text.", "q", "validation_invalid_query", "Must be at most 100 characters.")
	}
	page, total, err := store.ListCannedReplies(e.App, e.Auth.Id, q, int64(p.Limit), p.offset())
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, listResponse{
		Message:         "Canned replies.",
		Data:            page,
		Page:            p.Page,
		NumOfItems:      len(page),
		TotalNumOfItems: total,
		NumOfPages:      p.numOfPages(total),
	})
}

// cannedInput is the body of POST and PATCH.
type cannedInput struct {
	Title  *string `json:"title"`
	Body   *string `json:"body"`
	Shared *bool   `json:"shared"`
}

// check validates the given fields (all of them when creating).
func (in cannedInput) check(creating bool) validation.Errors {
	errs := validation.Errors{}
	if in.Title != nil || creating {
		if err := checkText(in.Title, maxCannedTitle); err != nil {
			if in.Title != nil && utf8.RuneCountInString(*in.Title) > maxCannedTitle {
				err = validation.NewError("validation_length_too_long", "Must be at most 100 characters.")
			}
			errs["title"] = err
		} else if strings.ContainsAny(*in.Title, "\r\n") {
			errs["title"] = validation.NewError("validation_invalid_title", "Must be one line.")
		}
	}
	if in.Body != nil || creating {
		if err := checkText(in.Body, maxText); err != nil {
			errs["body"] = err
		}
	}
	return errs
}

func createCannedReply(e *core.RequestEvent) error {
	var in cannedInput
	if err := readJSON(e, &in); err != nil {
		return err
	}
	if errs := in.check(true); len(errs) > 0 {
		return e.BadRequestError("The canned reply is not valid.", errs)
	}
	shared := in.Shared != nil && *in.Shared
	if shared && !policy.Can(e.Auth, policy.ShareCanned) {
		return e.ForbiddenError("Only a superAdmin may write shared canned replies.", nil)
	}
	col, err := e.App.FindCachedCollectionByNameOrId(policy.CannedReplies)
	if err != nil {
		return e.InternalServerError("", err)
	}
	r := core.NewRecord(col)
	r.Set("title", strings.TrimSpace(*in.Title))
	r.Set("body", *in.Body)
	r.Set("shared", shared)
	r.Set("ownerId", e.Auth.Id)
	if err := e.App.Save(r); err != nil {
		return e.BadRequestError("The canned reply could not be saved.", err)
	}
	return e.JSON(http.StatusCreated, cannedResponse{Message: "The canned reply has been saved.", Data: store.CannedOf(r)})
}

// findCanned loads the canned reply of the path: one the caller may not see
// is a 404; one it may see but not change (rule) a 403.
func findCanned(e *core.RequestEvent, body map[string]any, rule func(*core.Collection) *string) (*core.Record, error) {
	r, err := e.App.FindRecordById(policy.CannedReplies, e.Request.PathValue("id"))
	if err != nil {
		return nil, e.NotFoundError("There is no canned reply with this id.", nil)
	}
	info := callerInfo(e)
	if ok, err := e.App.CanAccessRecord(r, info, r.Collection().ViewRule); err != nil || !ok {
		return nil, e.NotFoundError("There is no canned reply with this id.", nil)
	}
	info.Body = body
	if ok, err := e.App.CanAccessRecord(r, info, rule(r.Collection())); err != nil || !ok {
		return nil, e.ForbiddenError("Only its owner may change a personal canned reply, and only a superAdmin a shared one.", nil)
	}
	return r, nil
}

func updateRule(c *core.Collection) *string { return c.UpdateRule }

func editCannedReply(e *core.RequestEvent) error {
	var in cannedInput
	if err := readJSON(e, &in); err != nil {
		return err
	}
	if errs := in.check(false); len(errs) > 0 {
		return e.BadRequestError("The canned reply is not valid.", errs)
	}
	body := map[string]any{}
	if in.Title != nil {
		body["title"] = strings.TrimSpace(*in.Title)
	}
	if in.Body != nil {
		body["body"] = *in.Body
	}
	if in.Shared != nil {
		body["shared"] = *in.Shared
	}
	r, err := findCanned(e, body, updateRule)
	if err != nil {
		return err
	}
	for k, v := range body {
		r.Set(k, v)
	}
	if err := e.App.Save(r); err != nil {
		return e.BadRequestError("The canned reply could not be saved.", err)
	}
	return e.JSON(http.StatusOK, cannedResponse{Message: "The canned reply has been saved.", Data: store.CannedOf(r)})
}

func deleteCannedReply(e *core.RequestEvent) error {
	r, err := findCanned(e, map[string]any{}, deleteRule)
	if err != nil {
		return err
	}
	if err := readJSON(e, &struct{}{}); err != nil {
		return err
	}
	if err := e.App.Delete(r); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]string{"message": "The canned reply has been deleted."})
}
