package routes

import (
	"bytes"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/rating"
	"ticketportal/sla"
)

// bindRatings lists the rating routes: the one-click links of the rating
// mail (GET) and the comment form (POST, JSON or the page's form). The
// signed token is the caller's only credential.
func bindRatings(se *core.ServeEvent) {
	se.Router.GET("/rateTicket", rateTicketPage)
	se.Router.POST("/rateTicket", rateTicket)
}

var ratePage = template.Must(template.ParseFS(pageFiles, "pages/layout.html", "pages/rate.html"))

// ratePageData is what the rating page shows.
type ratePageData struct {
	accountPage
	Score   string
	Comment string
}

func renderRatePage(e *core.RequestEvent, status int, p ratePageData) error {
	p.AppName = e.App.Settings().Meta.AppName
	var buf bytes.Buffer
	if err := ratePage.ExecuteTemplate(&buf, "layout", p); err != nil {
		return e.InternalServerError("", err)
	}
	e.Response.Header().Set("Cache-Control", "no-store")
	e.Response.Header().Set("Referrer-Policy", "no-referrer")
	return e.HTML(status, buf.String())
}

// ratingFailure is the page (or JSON error) for a token that does not work.
func ratingFailure(e *core.RequestEvent, err error, asJSON bool) error {
	status, title, msg := http.StatusBadRequest, "Rating link not valid", "This rating link is not valid. Please use the link from your mail as it is."
	if errors.Is(err, rating.ErrExpired) {
		status, title, msg = http.StatusGone, "Rating link expired", "This rating link has expired: a ticket can be rated for 7 days after it was closed."
	}
	if asJSON {
		return e.JSON(status, map[string]any{"status": status, "message": msg, "data": map[string]any{
			"token": map[string]string{"code": "validation_invalid_token", "message": msg}}})
	}
	return renderAccountPage(e, status, "message", accountPage{Title: title, Message: msg, LinkURL: "/", LinkText: "Go to the portal"})
}

// applyRating checks the token and stores the score (and, when comment is
// not nil, the comment) on its ticket; history "rated" follows the data.
func applyRating(e *core.RequestEvent, token, score string, comment *string) (*core.Record, error) {
	key, err := rating.Key(e.App)
	if err != nil {
		return nil, err
	}
	ticketId, err := rating.Check(key, token, sla.Now(e.App))
	if err != nil {
		return nil, err
	}
	var ticket *core.Record
	err = e.App.RunInTransaction(func(tx core.App) error {
		t, err := tx.FindRecordById(policy.Tickets, ticketId)
		if err != nil {
			return rating.ErrInvalid // deleted since
		}
		changed := t.GetString("rating") != score
		t.Set("rating", score)
		if comment != nil && t.GetString("ratingComment") != *comment {
			t.Set("ratingComment", *comment)
			changed = true
		}
		ticket = t
		if !changed {
			return nil
		}
		t.Set("markedBy", t.GetString("customerId")) // the customer rated
		return tx.Save(t)
	})
	return ticket, err
}

func rateTicketPage(e *core.RequestEvent) error {
	q := e.Request.URL.Query()
	token, score := q.Get("token"), q.Get("score")
	if !rating.ValidScore(score) {
		return renderAccountPage(e, http.StatusBadRequest, "message", accountPage{Title: "Rating link not valid",
			Message: "This rating link is not valid: the score must be good or bad.", LinkURL: "/", LinkText: "Go to the portal"})
	}
	t, err := applyRating(e, token, score, nil)
	if err != nil {
		if errors.Is(err, rating.ErrInvalid) || errors.Is(err, rating.ErrExpired) {
			return ratingFailure(e, err, false)
		}
		return e.InternalServerError("", err)
	}
	return renderRatePage(e, http.StatusOK, ratePageData{
		accountPage: accountPage{Title: "Thank you for your rating", Token: token,
			Message: "We have recorded your rating of ticket \u201c" + t.GetString("ticketSubject") + "\u201d. You can add a comment or change it below."},
		Score: score, Comment: t.GetString("ratingComment"),
	})
}

func rateTicket(e *core.RequestEvent) error {
	mt, _, _ := mime.ParseMediaType(e.Request.Header.Get("Content-Type"))
	asForm := mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
	var in struct {
		Token   *string `json:"token"`
		Score   *string `json:"score"`
		Comment *string `json:"comment"`
	}
	if asForm {
		e.Request.Body = http.MaxBytesReader(e.Response, e.Request.Body, maxBody)
		if err := e.Request.ParseForm(); err != nil {
			return renderAccountPage(e, http.StatusBadRequest, "message", accountPage{Title: "Rating not sent", Message: "The form could not be read.", LinkURL: "/", LinkText: "Go to the portal"})
		}
		for _, k := range []string{"token", "score", "comment"} {
			if e.Request.PostForm.Has(k) {
				v := e.Request.PostForm.Get(k)
				switch k {
				case "token":
					in.Token = &v
				case "score":
					in.Score = &v
				case "comment":
					in.Comment = &v
				}
			}
		}
	} else if err := readJSON(e, &in); err != nil {
		return err
	}
	errs := validation.Errors{}
	if in.Token == nil || *in.Token == "" {
		errs["token"] = validation.NewError("validation_required", "Cannot be blank.")
	}
	if in.Score == nil || !rating.ValidScore(*in.Score) {
		errs["score"] = validation.NewError("validation_invalid_score", "Must be good or bad.")
	}
	if in.Comment != nil {
		c := strings.TrimSpace(*in.Comment)
		in.Comment = &c
		if utf8.RuneCountInString(c) > rating.MaxComment || strings.ContainsRune(c, 0) {
			errs["comment"] = validation.NewError("validation_length_too_long", "Must be at most 2000 characters.")
		}
	}
	if len(errs) > 0 {
		if asForm {
			return renderAccountPage(e, http.StatusBadRequest, "message", accountPage{Title: "Rating not sent",
				Message: "Choose good or bad, and keep the comment under 2000 characters.", LinkURL: "/", LinkText: "Go to the portal"})
		}
		return e.BadRequestError("The rating is not valid.", errs)
	}
	t, err := applyRating(e, *in.Token, *in.Score, in.Comment)
	if err != nil {
		if errors.Is(err, rating.ErrInvalid) || errors.Is(err, rating.ErrExpired) {
			return ratingFailure(e, err, !asForm)
		}
		return e.InternalServerError("", err)
	}
	if asForm {
		return renderAccountPage(e, http.StatusOK, "message", accountPage{Title: "Thank you",
			Message: "Your rating and comment are recorded. You can change them from the mail's links for 7 days.", LinkURL: "/", LinkText: "Go to the portal"})
	}
	return e.JSON(http.StatusOK, map[string]any{"message": "Your rating is recorded.", "data": map[string]string{
		"ticketId": t.Id, "rating": t.GetString("rating"), "ratingComment": t.GetString("ratingComment")}})
}
