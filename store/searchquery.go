package store

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a search query.
const (
	MaxQueryLength = 500 // characters
	MaxQueryTerms  = 16
	MinPrefix      = 2 // letters before a prefix's star
)

// QueryError is a search query that cannot be run, with a sentence for the
// person who typed it.
type QueryError struct{ Reason string }

func (e *QueryError) Error() string { return e.Reason }

func queryErr(format string, args ...any) error {
	return &QueryError{Reason: fmt.Sprintf(format, args...)}
}

// Term is one part of a search query: a word or a "quoted phrase", maybe a
// prefix (export*) and maybe excluded (-word).
type Term struct {
	Text    string
	Phrase  bool
	Prefix  bool
	Exclude bool
}

// ParseQuery reads the search query language: words, "phrases",
// prefix* and -exclusion, all of which must hold (AND). Everything else the
// user types is text, never syntax: AND, OR, NEAR(, parentheses, colons and
// carets are words or punctuation. Terms with no letter or digit (a lone
// "&") are dropped, since the index never holds them. Malformed queries
// (an unclosed quote, a minus or a star with nothing to apply to, a query
// that only excludes, too long a query) are a *QueryError.
func ParseQuery(q string) ([]Term, error) {
	if !utf8.ValidString(q) {
		return nil, queryErr("The search is not valid UTF-8 text.")
	}
	if n := utf8.RuneCountInString(q); n > MaxQueryLength {
		return nil, queryErr("The search is %d characters long; at most %d are allowed.", n, MaxQueryLength)
	}
	rs := []rune(q)
	var terms []Term
	i := 0
	for i < len(rs) {
		if isSpace(rs[i]) {
			i++
			continue
		}
		t := Term{}
		if rs[i] == '-' {
			t.Exclude = true
			i++
			if i == len(rs) || isSpace(rs[i]) || rs[i] == '-' {
				return nil, queryErr("A minus sign must be followed by the word or \"phrase\" to leave out, as in -refund.")
			}
		}
		if rs[i] == '"' {
			end := i + 1
			for end < len(rs) && rs[end] != '"' {
				end++
			}
			if end == len(rs) {
				return nil, queryErr("The search has a quote that is not closed.")
			}
			t.Phrase = true
			t.Text = string(rs[i+1 : end])
			i = end + 1
			if i < len(rs) && rs[i] == '*' {
				t.Prefix = true
				for i < len(rs) && rs[i] == '*' {
					i++
				}
			}
		} else {
			start := i
			for i < len(rs) && !isSpace(rs[i]) && rs[i] != '"' {
				i++
			}
			word := string(rs[start:i])
			if strings.HasSuffix(word, "*") {
				word = strings.TrimRight(word, "*")
				t.Prefix = true
				if word == "" {
					return nil, queryErr("A star must follow the start of a word, as in export*.")
				}
			}
			t.Text = word
		}
		t.Text = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) || r == '"' {
				return ' '
			}
			return r
		}, t.Text)
		letters := tokenLetters(t.Text)
		if letters == 0 {
			continue // punctuation only: the index holds no such word
		}
		if t.Prefix && lastTokenLetters(t.Text) < MinPrefix {
			return nil, queryErr("A prefix needs at least %d letters before the star.", MinPrefix)
		}
		terms = append(terms, t)
		if len(terms) > MaxQueryTerms {
			return nil, queryErr("The search has more than %d words or phrases.", MaxQueryTerms)
		}
	}
	positive := 0
	for _, t := range terms {
		if !t.Exclude {
			positive++
		}
	}
	if positive == 0 {
		if len(terms) > 0 {
			return nil, queryErr("The search only leaves words out; add a word to look for.")
		}
		return nil, queryErr("The search has no word to look for.")
	}
	return terms, nil
}

// MatchExpression turns parsed terms into an FTS5 MATCH expression in which
// every piece of user text is a quoted string: ("a" AND "b c" AND "d" *)
// NOT "e".
func MatchExpression(terms []Term) string {
	var pos, neg []string
	for _, t := range terms {
		s := `"` + strings.ReplaceAll(t.Text, `"`, `""`) + `"`
		if t.Prefix {
			s += " *"
		}
		if t.Exclude {
			neg = append(neg, s)
		} else {
			pos = append(pos, s)
		}
	}
	out := "(" + strings.Join(pos, " AND ") + ")"
	for _, n := range neg {
		out += " NOT " + n
	}
	return out
}

// isSpace separates terms: white space and control characters.
func isSpace(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// isTokenChar is a character the index's tokenizer (unicode61) keeps in
// words: letters, digits and private-use characters.
func isTokenChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

func tokenLetters(s string) int {
	n := 0
	for _, r := range s {
		if isTokenChar(r) {
			n++
		}
	}
	return n
}

// lastTokenLetters counts the letters of the last word of s (the one a
// prefix star applies to).
func lastTokenLetters(s string) int {
	rs := []rune(s)
	end := len(rs)
	for end > 0 && !isTokenChar(rs[end-1]) {
		end--
	}
	n := 0
	for end > 0 && isTokenChar(rs[end-1]) {
		n++
		end--
	}
	return n
}

// Words splits text into the lowercase words the index would hold.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !isTokenChar(r) })
}
