package routes

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"regexp"
	"strconv"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
)

// bindReports lists the report routes.
func bindReports(se *core.ServeEvent) {
	se.Router.GET("/getReport", getReport).BindFunc(require(policy.ReadReports))
}

var dayPattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// parseDay reads a YYYY-MM-DD query value as a UTC day.
func parseDay(raw string) (time.Time, bool) {
	if !dayPattern.MatchString(raw) {
		return time.Time{}, false
	}
	d, err := time.Parse("2006-01-02", raw)
	return d, err == nil
}

func getReport(e *core.RequestEvent) error {
	q := e.Request.URL.Query()
	errs := validation.Errors{}
	from, ok := parseDay(q.Get("from"))
	if !ok {
		errs["from"] = validation.NewError("validation_invalid_date", "Must be a day as YYYY-MM-DD.")
	}
	to, ok2 := parseDay(q.Get("to"))
	if !ok2 {
		errs["to"] = validation.NewError("validation_invalid_date", "Must be a day as YYYY-MM-DD.")
	}
	if len(errs) > 0 {
		return e.BadRequestError("The from and to parameters must be days as YYYY-MM-DD.", errs)
	}
	if to.Before(from) {
		return e.BadRequestError("The day to must not be before the day from.", validation.Errors{
			"to": validation.NewError("validation_before_from", "Must not be before from."),
		})
	}
	if days := int(to.Sub(from).Hours()/24) + 1; days > store.MaxReportDays {
		return e.BadRequestError("A report covers at most 366 days.", validation.Errors{
			"to": validation.NewError("validation_range_too_long", "Must be at most 366 days from from."),
		})
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return e.BadRequestError("The format parameter must be json or csv.", validation.Errors{
			"format": validation.NewError("validation_invalid_format", "Must be json or csv."),
		})
	}

	r, err := store.BuildReport(e.App, from, to)
	if err != nil {
		return e.InternalServerError("", err)
	}
	if format == "csv" {
		return reportCSV(e, r, q.Get("from"), q.Get("to"))
	}
	return e.JSON(http.StatusOK, map[string]any{"message": "Report.", "data": r})
}

// reportCSV answers the days of r as CSV: day,created,closed,backlog.
func reportCSV(e *core.RequestEvent, r *store.Report, from, to string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"day", "created", "closed", "backlog"})
	for _, d := range r.Days {
		_ = w.Write([]string{d.Day, strconv.Itoa(d.Created), strconv.Itoa(d.Closed), strconv.Itoa(d.Backlog)})
	}
	w.Flush()
	e.Response.Header().Set("Content-Disposition", `attachment; filename="report-`+from+`-`+to+`.csv"`)
	return e.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
