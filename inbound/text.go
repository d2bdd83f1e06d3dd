package inbound

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"ticketportal/mail"
)

// HTMLToText turns an HTML mail body into plain text: the text of the
// elements, one line per block, quoted blocks (<blockquote>) prefixed with
// "> " so that the quote cutter sees them, links as "text (url)". Scripts,
// styles, the head and every other markup are dropped: the result is never
// HTML.
func HTMLToText(src string) string {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return ""
	}
	w := &textWriter{}
	w.walk(doc)
	return strings.TrimSpace(w.lines())
}

type textWriter struct {
	out   []string // finished lines
	cur   strings.Builder
	quote int
	space bool // white space after the last text
}

func (w *textWriter) newline() {
	line := strings.TrimRight(w.cur.String(), " ")
	w.cur.Reset()
	w.space = false
	if w.quote > 0 {
		line = strings.Repeat("> ", w.quote) + line
	}
	w.out = append(w.out, line)
}

func (w *textWriter) block() {
	if w.cur.Len() > 0 {
		w.newline()
	}
}

// text appends inline text, white space collapsed as a browser does.
func (w *textWriter) text(s string) {
	words := strings.Join(strings.Fields(s), " ")
	if words == "" {
		if s != "" && w.cur.Len() > 0 {
			w.space = true
		}
		return
	}
	lead := strings.TrimLeft(s, " \t\r\n\f") != s
	if w.cur.Len() > 0 && (lead || w.space) {
		w.cur.WriteByte(' ')
	}
	w.cur.WriteString(words)
	w.space = strings.TrimRight(s, " \t\r\n\f") != s
}

func (w *textWriter) lines() string {
	w.block()
	// collapse runs of empty lines
	var out []string
	for _, l := range w.out {
		if strings.TrimSpace(strings.TrimLeft(l, "> ")) == "" && len(out) > 0 && strings.TrimSpace(strings.TrimLeft(out[len(out)-1], "> ")) == "" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func (w *textWriter) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.ElementNode:
		switch n.DataAtom {
		case atom.Script, atom.Style, atom.Head, atom.Title, atom.Noscript, atom.Template, atom.Iframe, atom.Object, atom.Svg:
			return
		case atom.Br:
			w.newline()
			return
		case atom.Img:
			for _, a := range n.Attr {
				if a.Key == "alt" && strings.TrimSpace(a.Val) != "" {
					w.text(" [" + a.Val + "]")
				}
			}
			return
		}
	case html.CommentNode:
		return
	}
	isBlock := n.Type == html.ElementNode && blockElements[n.DataAtom]
	if isBlock {
		w.block()
	}
	if n.Type == html.ElementNode && n.DataAtom == atom.Blockquote {
		w.quote++
		defer func() { w.block(); w.quote-- }()
	}
	if n.Type == html.ElementNode && n.DataAtom == atom.Li {
		w.text("- ")
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
	if n.Type == html.ElementNode && n.DataAtom == atom.A {
		for _, a := range n.Attr {
			if a.Key == "href" && (strings.HasPrefix(a.Val, "http://") || strings.HasPrefix(a.Val, "https://") || strings.HasPrefix(a.Val, "mailto:")) {
				w.text(" (" + a.Val + ")")
			}
		}
	}
	if isBlock {
		w.block()
		if n.DataAtom == atom.P {
			w.out = append(w.out, "")
		}
	}
}

var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Ul: true, atom.Ol: true, atom.Tr: true, atom.Table: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Pre: true,
	atom.Blockquote: true, atom.Hr: true, atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
	atom.Body: true, atom.Html: true, atom.Dl: true, atom.Dt: true, atom.Dd: true, atom.Address: true, atom.Center: true,
}

var (
	// "On Mon, 1 Dec 2026 at 10:00, Support <support@example.com> wrote:"
	// (Gmail, Apple Mail, Thunderbird), possibly wrapped over two lines.
	onWrote = regexp.MustCompile(`(?i)^\s*(on|am|le|el|il|op)\s.*(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:\s*$`)
	// Outlook: "-----Original Message-----" or a line of underscores
	// before the "From:" block.
	outlookRule = regexp.MustCompile(`(?i)^\s*(-{2,}\s*(original message|ursprüngliche nachricht|message d'origine)\s*-{2,}|_{10,})\s*$`)
	fromLine    = regexp.MustCompile(`(?i)^\s*\*?(from|von|de)\s*:\*?\s+\S`)
	headerLine  = regexp.MustCompile(`(?i)^\s*\*?(sent|date|to|subject|gesendet|an|betreff|envoyé|à|objet)\s*:`)
	// Apple Mail's forwarded/quoted block start.
	appleBegin = regexp.MustCompile(`(?i)^\s*begin forwarded message:\s*$`)
)

// CutQuotes returns the new text of a reply: everything from the first
// line that starts the quoted earlier mail (our marker line, "On … wrote:",
// Outlook's "-----Original Message-----" or "From:/Sent:" header block,
// Apple Mail's "Begin forwarded message:") is cut, as are lines quoted with
// ">" and the signature below a "-- " line.
func CutQuotes(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	end := len(lines)
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		bare := strings.TrimSpace(strings.TrimLeft(l, "> "))
		switch {
		case strings.Contains(bare, mail.ReplyMarker):
			end = i
		case l == "-- " || l == "--" || l == "-- \r":
			end = i
		case onWrote.MatchString(l):
			end = i
		case i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(l), "On ") && onWrote.MatchString(strings.TrimSpace(l)+" "+strings.TrimSpace(lines[i+1])):
			end = i
		case outlookRule.MatchString(l):
			end = i
		case fromLine.MatchString(l) && headerBlockFollows(lines, i+1):
			end = i
		case appleBegin.MatchString(l):
			end = i
		}
		if end != len(lines) {
			break
		}
	}
	var out []string
	for _, l := range lines[:end] {
		if strings.HasPrefix(strings.TrimLeft(l, " "), ">") {
			continue
		}
		out = append(out, strings.TrimRight(l, " \t"))
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// headerBlockFollows says whether the next lines hold at least one more
// header of a quoted mail (Outlook's "Sent:", "To:", "Subject:").
func headerBlockFollows(lines []string, from int) bool {
	for i := from; i < len(lines) && i < from+4; i++ {
		if headerLine.MatchString(lines[i]) {
			return true
		}
	}
	return false
}
