package store

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// The report of GET /getReport. Counts come
// from the per-day tables reportDays and reportAgentDays that SQL triggers
// keep (migrations/1764200800_service_levels.go): one row per day, whatever
// the number of tickets. The times (medians, p90) need each ticket sent in
// the range: they are read from the covering index idx_tickets_report over
// that createdAt range, never from the table.

// Report is the report's data.
type Report struct {
	Days               []ReportDay   `json:"days"`
	FirstResponse      Percentiles   `json:"firstResponse"`
	Resolution         Percentiles   `json:"resolution"`
	SLABreachedPercent float64       `json:"slaBreachedPercent"`
	Ratings            Ratings       `json:"ratings"`
	Agents             []AgentReport `json:"agents"`
}

// ReportDay is one UTC day: tickets sent, tickets closed, and the tickets
// active at the end of it.
type ReportDay struct {
	Day     string `json:"day"`
	Created int    `json:"created"`
	Closed  int    `json:"closed"`
	Backlog int    `json:"backlog"`
}

// Percentiles of a time, in minutes; null when no ticket counts.
type Percentiles struct {
	MedianMinutes *float64 `json:"medianMinutes"`
	P90Minutes    *float64 `json:"p90Minutes"`
}

// Ratings counts the ratings of the tickets sent in the range.
type Ratings struct {
	Good int `json:"good"`
	Bad  int `json:"bad"`
}

// AgentReport is one agent's work in the range.
type AgentReport struct {
	AdminId                    string   `json:"adminId"`
	UserName                   string   `json:"userName"`
	Answers                    int      `json:"answers"`
	Closed                     int      `json:"closed"`
	MedianFirstResponseMinutes *float64 `json:"medianFirstResponseMinutes"`
}

// MaxReportDays is the longest range of a report.
const MaxReportDays = 366

const dayLayout = "2006-01-02"

// BuildReport computes the report of the UTC days from..to (inclusive).
func BuildReport(app core.App, from, to time.Time) (*Report, error) {
	fromDay, toDay := from.Format(dayLayout), to.Format(dayLayout)
	end := to.AddDate(0, 0, 1).Format(dayLayout) // createdAt < end
	r := &Report{Days: []ReportDay{}, Agents: []AgentReport{}}

	var base int
	if err := app.DB().NewQuery("SELECT COALESCE(SUM(created - closed), 0) FROM reportDays WHERE day < {:from}").
		Bind(dbx.Params{"from": fromDay}).Row(&base); err != nil {
		return nil, err
	}
	var rows []struct {
		Day      string `db:"day"`
		Created  int    `db:"created"`
		Closed   int    `db:"closed"`
		Breached int    `db:"breached"`
		Good     int    `db:"good"`
		Bad      int    `db:"bad"`
	}
	if err := app.DB().NewQuery("SELECT day, created, closed, breached, good, bad FROM reportDays WHERE day >= {:from} AND day <= {:to} ORDER BY day").
		Bind(dbx.Params{"from": fromDay, "to": toDay}).All(&rows); err != nil {
		return nil, err
	}
	created, breached, backlog, i := 0, 0, base, 0
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		day := ReportDay{Day: d.Format(dayLayout)}
		if i < len(rows) && rows[i].Day == day.Day {
			row := rows[i]
			i++
			day.Created, day.Closed = row.Created, row.Closed
			created += row.Created
			breached += row.Breached
			r.Ratings.Good += row.Good
			r.Ratings.Bad += row.Bad
		}
		backlog += day.Created - day.Closed
		day.Backlog = backlog
		r.Days = append(r.Days, day)
	}
	if created > 0 {
		r.SLABreachedPercent = round2(100 * float64(breached) / float64(created))
	}

	var times []struct {
		First    *float64 `db:"fr"`
		Resolve  *float64 `db:"res"`
		Answerer string   `db:"firstRespondedBy"`
	}
	err := app.DB().NewQuery(`SELECT
		CASE WHEN firstRespondedAt != '' THEN (julianday(firstRespondedAt) - julianday(createdAt)) * 1440 END AS fr,
		CASE WHEN resolvedAt != '' THEN (julianday(resolvedAt) - julianday(createdAt)) * 1440 END AS res,
		firstRespondedBy
		FROM tickets INDEXED BY idx_tickets_report WHERE createdAt >= {:from} AND createdAt < {:end}`).
		Bind(dbx.Params{"from": fromDay, "end": end}).All(&times)
	if err != nil {
		return nil, err
	}
	var first, resolve []float64
	byAgent := map[string][]float64{}
	for _, t := range times {
		if t.First != nil {
			first = append(first, *t.First)
			byAgent[t.Answerer] = append(byAgent[t.Answerer], *t.First)
		}
		if t.Resolve != nil {
			resolve = append(resolve, *t.Resolve)
		}
	}
	r.FirstResponse = Percentiles{MedianMinutes: Median(first), P90Minutes: P90(first)}
	r.Resolution = Percentiles{MedianMinutes: Median(resolve), P90Minutes: P90(resolve)}

	agents, err := agentReports(app, fromDay, toDay, byAgent)
	if err != nil {
		return nil, err
	}
	r.Agents = agents
	return r, nil
}

// agentReports lists every agent (admins and superAdmins, plus anyone
// else with work in the range, e.g. an operator), by user name.
func agentReports(app core.App, fromDay, toDay string, firstTimes map[string][]float64) ([]AgentReport, error) {
	var work []struct {
		AdminId string `db:"adminId"`
		Answers int    `db:"answers"`
		Closed  int    `db:"closed"`
	}
	if err := app.DB().NewQuery("SELECT adminId, SUM(answers) AS answers, SUM(closed) AS closed FROM reportAgentDays WHERE day >= {:from} AND day <= {:to} GROUP BY adminId").
		Bind(dbx.Params{"from": fromDay, "to": toDay}).All(&work); err != nil {
		return nil, err
	}
	var admins []struct {
		Id       string `db:"id"`
		UserName string `db:"userName"`
	}
	if err := app.DB().Select("id", "userName").From(policy.Admins).All(&admins); err != nil {
		return nil, err
	}
	byId := map[string]*AgentReport{}
	for _, a := range admins {
		byId[a.Id] = &AgentReport{AdminId: a.Id, UserName: a.UserName}
	}
	get := func(id string) *AgentReport {
		if a, ok := byId[id]; ok {
			return a
		}
		a := &AgentReport{AdminId: id}
		if _, err := app.FindRecordById(core.CollectionNameSuperusers, id); err == nil {
			a.UserName = "operator"
		}
		byId[id] = a
		return a
	}
	for _, w := range work {
		if w.Answers == 0 && w.Closed == 0 {
			continue
		}
		a := get(w.AdminId)
		a.Answers, a.Closed = w.Answers, w.Closed
	}
	for id, times := range firstTimes {
		if id != "" {
			get(id).MedianFirstResponseMinutes = Median(times)
		}
	}
	out := make([]AgentReport, 0, len(byId))
	for _, a := range byId {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].UserName != out[j].UserName {
			return out[i].UserName < out[j].UserName
		}
		return out[i].AdminId < out[j].AdminId
	})
	return out, nil
}

// Median is the middle value (the mean of the two middle ones for an even
// count), rounded to 0.01; nil for none.
func Median(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	m := s[n/2]
	if n%2 == 0 {
		m = (s[n/2-1] + s[n/2]) / 2
	}
	m = round2(m)
	return &m
}

// P90 is the 90th percentile by nearest rank (the smallest value with at
// least 90% of the values at or below it), rounded to 0.01; nil for none.
func P90(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	rank := int(math.Ceil(0.9 * float64(len(s))))
	p := round2(s[rank-1])
	return &p
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
