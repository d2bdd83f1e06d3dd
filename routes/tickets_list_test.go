package routes

import (
	"net/url"
	"testing"
)

func TestParsePage(t *testing.T) {
	cases := []struct {
		query       string
		page, limit int
		bad         []string
	}{
		{"", 1, 10, nil},
		{"page=2&limit=5", 2, 5, nil},
		{"limit=100", 1, 100, nil},
		{"limit=101", 1, 100, nil},
		{"limit=99999999999999999999999", 1, 100, nil},
		{"page=99999999999999999999999", maxPage, 10, nil},
		{"page=007", 7, 10, nil},
		{"page=0", 0, 10, []string{"page"}},
		{"page=-1", 0, 10, []string{"page"}},
		{"page=abc", 0, 10, []string{"page"}},
		{"page=1.5", 0, 10, []string{"page"}},
		{"page=+2", 0, 10, []string{"page"}},
		{"page=", 0, 10, []string{"page"}},
		{"page=%201", 0, 10, []string{"page"}},
		{"limit=0", 1, 0, []string{"limit"}},
		{"limit=ten", 1, 0, []string{"limit"}},
		{"page=x&limit=-5", 0, 0, []string{"page", "limit"}},
	}
	for _, c := range cases {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		p, errs := parsePage(q)
		if len(errs) != len(c.bad) {
			t.Errorf("%q: errors %v, want errors for %v", c.query, errs, c.bad)
			continue
		}
		for _, name := range c.bad {
			if errs[name] == nil {
				t.Errorf("%q: no error for %s", c.query, name)
			}
		}
		if len(c.bad) == 0 && (p.Page != c.page || p.Limit != c.limit) {
			t.Errorf("%q: page %d limit %d, want %d %d", c.query, p.Page, p.Limit, c.page, c.limit)
		}
	}
}

func TestPageMaths(t *testing.T) {
	cases := []struct {
		page, limit    int
		total          int64
		offset, nPages int64
	}{
		{1, 10, 0, 0, 0},
		{1, 10, 1, 0, 1},
		{1, 10, 10, 0, 1},
		{2, 10, 11, 10, 2},
		{3, 7, 100, 14, 15},
		{maxPage, maxLimit, 5, int64(maxPage-1) * maxLimit, 1},
	}
	for _, c := range cases {
		p := pageRequest{Page: c.page, Limit: c.limit}
		if p.offset() != c.offset || p.numOfPages(c.total) != c.nPages {
			t.Errorf("page %d limit %d total %d: offset %d pages %d, want %d %d",
				c.page, c.limit, c.total, p.offset(), p.numOfPages(c.total), c.offset, c.nPages)
		}
	}
}
