package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	cases := []struct {
		name, q string
		want    string // the FTS5 expression, or "" when the query is refused
		err     string // part of the refusal
	}{
		{"one word", `refund`, `("refund")`, ""},
		{"two words must both hold", `refund invoice`, `("refund" AND "invoice")`, ""},
		{"a phrase", `"credit card"`, `("credit card")`, ""},
		{"a prefix", `export*`, `("export" *)`, ""},
		{"a prefix phrase", `"credit ca"*`, `("credit ca" *)`, ""},
		{"several stars are one", `export***`, `("export" *)`, ""},
		{"an exclusion", `refund -paypal`, `("refund") NOT "paypal"`, ""},
		{"an excluded phrase and prefix", `refund -"credit card" -pay*`, `("refund") NOT "credit card" NOT "pay" *`, ""},
		{"operators are words", `a OR b AND NOT c`, `("a" AND "OR" AND "b" AND "AND" AND "NOT" AND "c")`, ""},
		{"NEAR( is a word", `NEAR(a b)`, `("NEAR(a" AND "b)")`, ""},
		{"column syntax is a word", `subject:refund ^x`, `("subject:refund" AND "^x")`, ""},
		{"a quote in a word starts a phrase", `ab"c d"`, `("ab" AND "c d")`, ""},
		{"punctuation alone is dropped", `refund & | ( )`, `("refund")`, ""},
		{"white space and control characters separate", "a\t\nb\x00c", `("a" AND "b" AND "c")`, ""},
		{"a hyphenated word", `e-mail`, `("e-mail")`, ""},
		{"accents and other scripts", `café 東京`, `("café" AND "東京")`, ""},
		{"an unclosed quote", `"credit card`, "", "quote that is not closed"},
		{"a lone quote", `"`, "", "quote that is not closed"},
		{"a lone minus", `refund -`, "", "minus sign"},
		{"a minus before a space", `- refund`, "", "minus sign"},
		{"a double minus", `--refund`, "", "minus sign"},
		{"a lone star", `*`, "", "star must follow"},
		{"a short prefix", `a*`, "", "at least 2 letters"},
		{"only exclusions", `-refund`, "", "only leaves words out"},
		{"nothing", ``, "", "no word"},
		{"only punctuation", `( ) "" :`, "", "no word"},
		{"too long", strings.Repeat("a", 501), "", "at most 500"},
		{"5,000 characters", strings.Repeat("ab ", 1667), "", "at most 500"},
		{"too many terms", strings.Repeat("ab ", 17), "", "more than 16"},
		{"invalid UTF-8", "ab\xff", "", "UTF-8"},
	}
	for _, c := range cases {
		terms, err := ParseQuery(c.q)
		if c.want == "" {
			var qe *QueryError
			if !errors.As(err, &qe) || !strings.Contains(qe.Reason, c.err) {
				t.Errorf("%s: %q gives %v, want a refusal saying %q", c.name, c.q, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %q refused: %v", c.name, c.q, err)
			continue
		}
		if got := MatchExpression(terms); got != c.want {
			t.Errorf("%s: %q gives %s, want %s", c.name, c.q, got, c.want)
		}
	}
}

func TestWords(t *testing.T) {
	got := Words("Can't log-in: error #42, Café!")
	want := []string{"can", "t", "log", "in", "error", "42", "café"}
	if !slices.Equal(got, want) {
		t.Errorf("Words = %v, want %v", got, want)
	}
}
