package routes

import (
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/store"
)

// Page sizes of the list routes.
const (
	defaultLimit = 10
	maxLimit     = 100
	maxPage      = math.MaxInt32 // larger pages are past the end of any list
)

// pageRequest is a list request's ?page and ?limit.
type pageRequest struct {
	Page, Limit int
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// parsePage reads ?page (default 1) and ?limit (default 10, larger than 100
// taken as 100). A value that is not a whole number of at least 1 is
// reported under its parameter's name.
func parsePage(q url.Values) (pageRequest, validation.Errors) {
	p := pageRequest{Page: 1, Limit: defaultLimit}
	errs := validation.Errors{}
	if q.Has("page") {
		n, ok := atLeastOne(q.Get("page"), maxPage)
		if !ok {
			errs["page"] = validation.NewError("validation_invalid_page", "Must be a whole number of at least 1.")
		}
		p.Page = n
	}
	if q.Has("limit") {
		n, ok := atLeastOne(q.Get("limit"), maxLimit)
		if !ok {
			errs["limit"] = validation.NewError("validation_invalid_limit", "Must be a whole number of at least 1.")
		}
		p.Limit = n
	}
	if len(errs) > 0 {
		return p, errs
	}
	return p, nil
}

// atLeastOne parses a whole number >= 1, taking anything above max as max.
func atLeastOne(raw string, max int) (int, bool) {
	if !digits.MatchString(raw) {
		return 0, false
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n > int64(max) { // the only possible error is a huge number
		return max, true
	}
	if n < 1 {
		return 0, false
	}
	return int(n), true
}

// offset is the number of rows before the page.
func (p pageRequest) offset() int64 { return int64(p.Page-1) * int64(p.Limit) }

// numOfPages is how many pages of p.Limit items total items fill.
func (p pageRequest) numOfPages(total int64) int64 {
	return (total + int64(p.Limit) - 1) / int64(p.Limit)
}

// listResponse is the product's list shape.
type listResponse struct {
	Message         string `json:"message"`
	Data            any    `json:"data"`
	Page            int    `json:"page"`
	NumOfItems      int    `json:"numOfItems"`
	TotalNumOfItems int64  `json:"totalNumOfItems"`
	NumOfPages      int64  `json:"numOfPages"`
}

// listQuery is one list route's selection: the collection, its filter and
// its order, plus what to do to a page's records before they are sent.
type listQuery struct {
	collection string
	where      dbx.Expression
	orderBy    []string
	// countKey names the store's ticket counter that holds the exact total
	// of the selection; without one the selection is counted.
	countKey string
	shape    func(app core.App, page []*core.Record) error
}

// total is the exact number of records q selects.
func (q listQuery) total(app core.App) (int64, error) {
	if q.countKey != "" {
		n, err := store.CountTickets(app, q.countKey)
		return int64(n), err
	}
	return app.CountRecords(q.collection, q.where)
}

// respondList answers one page of q with the exact total. A page past the
// end has no items.
func respondList(e *core.RequestEvent, message string, q listQuery) error {
	p, errs := parsePage(e.Request.URL.Query())
	if errs != nil {
		name := "page"
		if errs["page"] == nil {
			name = "limit"
		}
		return e.BadRequestError("The "+name+" parameter must be a whole number of at least 1.", errs)
	}
	total, err := q.total(e.App)
	if err != nil {
		return e.InternalServerError("", err)
	}
	page := []*core.Record{}
	if p.offset() < total {
		err := e.App.RecordQuery(q.collection).
			AndWhere(q.where).
			OrderBy(q.orderBy...).
			Limit(int64(p.Limit)).
			Offset(p.offset()).
			All(&page)
		if err != nil {
			return e.InternalServerError("", err)
		}
		if q.shape != nil && len(page) > 0 {
			if err := q.shape(e.App, page); err != nil {
				return e.InternalServerError("", err)
			}
		}
	}
	return e.JSON(http.StatusOK, listResponse{
		Message:         message,
		Data:            page,
		Page:            p.Page,
		NumOfItems:      len(page),
		TotalNumOfItems: total,
		NumOfPages:      p.numOfPages(total),
	})
}
