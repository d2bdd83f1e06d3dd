package store

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// The two full-text indexes (migrations/1764200700_search_index.go): staff
// search every column, customers only the public ones.
const (
	staffIndex  = "ticketSearch"
	publicIndex = "ticketSearchPublic"
)

// Bounds of one search: BM25 ranks the newest RankWindow matches, and the
// total counts at most MaxSearchTotal.
const (
	RankWindow     = 1000
	MaxSearchTotal = 10000
)

// SearchScope is what one caller may find and the filters it asked for.
type SearchScope struct {
	Staff      bool   // the staff index (notes and customer data) or the public one
	CustomerId string // only this customer's tickets ("" for staff)
	Status     string // only tickets with this ticketStatus ("" for any)
	Tag        string // only tickets with this tag ("" for any)
}

// SearchHit is one ticket found, best first.
type SearchHit struct {
	TicketId string
	Snippet  string
}

// SearchTickets runs parsed terms against the index the scope allows and
// returns one page of hits, best match first (BM25, the subject weighted
// above the text), with the total number of matches.
func SearchTickets(app core.App, terms []Term, scope SearchScope, limit, offset int64) ([]SearchHit, int64, error) {
	index := publicIndex
	if scope.Staff {
		index = staffIndex
	}
	params := dbx.Params{"q": MatchExpression(terms)}
	var from string
	var where []string
	switch {
	case scope.CustomerId != "":
		// a customer has few tickets: walk them and ask the index about each
		from = "tickets t CROSS JOIN ticketSearchDocs d CROSS JOIN " + index
		where = append(where, "t.customerId = {:customer}", "d.ticketId = t.id", index+".rowid = d.rowid")
		params["customer"] = scope.CustomerId
	case scope.Status != "" || scope.Tag != "":
		// the index first: SQLite would otherwise walk every document and
		// ask the index about each
		from = index + " CROSS JOIN ticketSearchDocs d ON d.rowid = " + index + ".rowid CROSS JOIN tickets t ON t.id = d.ticketId"
	default:
		from = index + " CROSS JOIN ticketSearchDocs d ON d.rowid = " + index + ".rowid"
	}
	where = append(where, index+" MATCH {:q}")
	if scope.Status != "" {
		where = append(where, "t.ticketStatus = {:status}")
		params["status"] = scope.Status
	}
	if scope.Tag != "" {
		where = append(where, "CASE WHEN json_valid(t.tags) THEN EXISTS (SELECT 1 FROM json_each(t.tags) WHERE json_each.value = {:tag}) ELSE 0 END")
		params["tag"] = scope.Tag
	}
	cond := strings.Join(where, " AND ")

	// the total is exact up to MaxSearchTotal: counting half a million
	// matches of a common word would cost every caller a second
	var total int64
	countFrom := from
	countCond := cond
	if scope.CustomerId == "" && scope.Status == "" && scope.Tag == "" {
		countFrom = index // every document belongs to a ticket (the triggers keep it so)
		countCond = index + " MATCH {:q}"
	}
	err := app.DB().NewQuery("SELECT count(*) FROM (SELECT 1 FROM " + countFrom + " WHERE " + countCond + " LIMIT " +
		strconv.Itoa(MaxSearchTotal) + ")").Bind(params).Row(&total)
	if err != nil {
		return nil, 0, err
	}
	if total == 0 || offset >= total {
		return []SearchHit{}, total, nil
	}
	limit = min(limit, total-offset)

	// BM25 ranks the newest RankWindow matches (all of them for any but a
	// very broad search); past the window the older matches follow, newest
	// first. Both walk the index from its newest document, so the work is
	// bounded whatever the word.
	type row struct {
		Rowid    int64  `db:"rowid"`
		TicketId string `db:"ticketId"`
	}
	var rows []row
	if offset < RankWindow {
		params["limit"], params["offset"] = min(limit, RankWindow-offset), offset
		err := app.DB().NewQuery("SELECT rowid, ticketId FROM (SELECT " + index + ".rowid AS rowid, d.ticketId AS ticketId, " + index + ".rank AS rank FROM " +
			from + " WHERE " + cond + " ORDER BY " + index + ".rowid DESC LIMIT " + strconv.Itoa(RankWindow) +
			") ORDER BY rank, rowid DESC LIMIT {:limit} OFFSET {:offset}").Bind(params).All(&rows)
		if err != nil {
			return nil, 0, err
		}
	}
	if end := offset + limit; end > RankWindow {
		start := max(offset, RankWindow)
		params["limit"], params["offset"] = end-start, start
		var tail []row
		err := app.DB().NewQuery("SELECT " + index + ".rowid AS rowid, d.ticketId AS ticketId FROM " + from + " WHERE " + cond +
			" ORDER BY " + index + ".rowid DESC LIMIT {:limit} OFFSET {:offset}").Bind(params).All(&tail)
		if err != nil {
			return nil, 0, err
		}
		rows = append(rows, tail...)
	}
	if len(rows) == 0 {
		return []SearchHit{}, total, nil
	}
	hits := make([]SearchHit, len(rows))
	rowids := make([]string, len(rows))
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		hits[i].TicketId = r.TicketId
		rowids[i] = strconv.FormatInt(r.Rowid, 10)
		at[r.Rowid] = i
	}
	// snippets only for the page (the index makes them from the stored text)
	var snippets []struct {
		Rowid   int64  `db:"rowid"`
		Snippet string `db:"snippet"`
	}
	err = app.DB().NewQuery("SELECT rowid, snippet(" + index + ", -1, '«', '»', '…', 16) AS snippet FROM " + index +
		" WHERE " + index + " MATCH {:q} AND rowid IN (" + strings.Join(rowids, ",") + ")").
		Bind(dbx.Params{"q": params["q"]}).All(&snippets)
	if err != nil {
		return nil, 0, err
	}
	for _, s := range snippets {
		hits[at[s.Rowid]].Snippet = s.Snippet
	}
	return hits, total, nil
}

// SimilarHit is a closed ticket like another one, with its last answer.
type SimilarHit struct {
	TicketId   string
	LastAnswer string
}

// Salient terms of a ticket: at most this many, chosen among its words by
// frequency in the ticket and rarity in the index. Words in more than one
// ticket in twenty say little and would make the query broad.
const (
	maxSalientTerms   = 12
	maxCandidateWords = 40
	maxUsefulDocs     = 2000 // a word in more tickets says little (and one in twenty once there are 1,000)
)

// SalientTerms picks the words of a ticket's public text (subject, first
// text, answers and replies) that say most about it: frequent in the
// ticket, rare in the index (tf·idf with the index's document counts). Words
// no other ticket has are of no use and left out.
func SalientTerms(app core.App, ticketId string) ([]string, error) {
	var doc struct {
		Subject  string `db:"subject"`
		Content  string `db:"content"`
		Messages string `db:"messages"`
	}
	err := app.DB().NewQuery("SELECT subject, content, messages FROM ticketSearchDocs WHERE ticketId = {:id}").
		Bind(dbx.Params{"id": ticketId}).One(&doc)
	if err != nil {
		return nil, err
	}
	tf := map[string]float64{}
	for i, text := range []string{doc.Subject, doc.Content, doc.Messages} {
		weight := 1.0
		if i == 0 {
			weight = 3 // the subject says what the ticket is about
		}
		for _, w := range Words(text) {
			if useful(w) {
				tf[w] += weight
			}
		}
	}
	words := make([]string, 0, len(tf))
	for w := range tf {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		if tf[words[i]] != tf[words[j]] {
			return tf[words[i]] > tf[words[j]]
		}
		if len(words[i]) != len(words[j]) {
			return len(words[i]) > len(words[j]) // longer words are rarer, as a rule
		}
		return words[i] < words[j]
	})
	if len(words) > maxCandidateWords {
		words = words[:maxCandidateWords]
	}
	if len(words) == 0 {
		return nil, nil
	}
	var n int64
	if err := app.DB().NewQuery("SELECT COALESCE(max(rowid), 0) FROM ticketSearchDocs").Row(&n); err != nil {
		return nil, err
	}
	// document counts, each stopping at the most a useful word may have (a
	// full count of a common word reads its whole list in the index)
	limit := max(n/20, maxUsefulDocs) + 1
	if n >= 1000 {
		limit = min(n/20, maxUsefulDocs) + 1
	}
	type count struct {
		Term string
		Doc  int64
	}
	var counts []count
	for _, w := range words {
		var c int64
		err := app.DB().NewQuery("SELECT count(*) FROM (SELECT 1 FROM " + publicIndex + " WHERE " + publicIndex + " MATCH {:q} LIMIT {:limit})").
			Bind(dbx.Params{"q": `"` + w + `"`, "limit": limit}).Row(&c)
		if err != nil {
			return nil, err
		}
		if c >= 2 && c < limit { // another ticket has it, and not too many
			counts = append(counts, count{w, c})
		}
	}
	type scored struct {
		word  string
		score float64
	}
	var best []scored
	for _, c := range counts {
		idf := math.Log(float64(n+1) / float64(c.Doc))
		best = append(best, scored{c.Term, (1 + math.Log(tf[c.Term])) * idf})
	}
	sort.Slice(best, func(i, j int) bool {
		if best[i].score != best[j].score {
			return best[i].score > best[j].score
		}
		return best[i].word < best[j].word
	})
	out := []string{}
	for _, s := range best {
		if len(out) == maxSalientTerms {
			break
		}
		out = append(out, s.word)
	}
	return out, nil
}

// SimilarTickets finds the closed tickets with an answer that are most like
// ticketId: BM25 over its salient terms (any of them), in the public index,
// best first, each with its last answer.
func SimilarTickets(app core.App, ticketId string, limit int64) ([]SimilarHit, error) {
	terms, err := SalientTerms(app, ticketId)
	if err != nil || len(terms) == 0 {
		return []SimilarHit{}, err
	}
	quoted := make([]string, len(terms))
	for i, t := range terms {
		quoted[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	}
	// as in SearchTickets, BM25 ranks the newest RankWindow candidates
	var ids []string
	err = app.DB().NewQuery("SELECT id FROM (SELECT t.id AS id, d.rowid AS rowid, " + publicIndex + ".rank AS rank FROM " + publicIndex +
		" CROSS JOIN ticketSearchDocs d ON d.rowid = " + publicIndex + ".rowid CROSS JOIN tickets t ON t.id = d.ticketId" +
		" WHERE " + publicIndex + " MATCH {:q} AND t.ticketStatus = 'closed' AND t.id != {:id}" +
		" AND EXISTS (SELECT 1 FROM messages m WHERE m.ticket = t.id AND m.kind = 'answer')" +
		" ORDER BY " + publicIndex + ".rowid DESC LIMIT " + strconv.Itoa(RankWindow) + ") ORDER BY rank, rowid DESC LIMIT {:limit}").
		Bind(dbx.Params{"q": strings.Join(quoted, " OR "), "id": ticketId, "limit": limit}).Column(&ids)
	if err != nil {
		return nil, err
	}
	hits := make([]SimilarHit, len(ids))
	for i, id := range ids {
		hits[i].TicketId = id
		err := app.DB().NewQuery("SELECT body FROM messages WHERE ticket = {:id} AND kind = {:kind} ORDER BY createdAt DESC, rowid DESC LIMIT 1").
			Bind(dbx.Params{"id": id, "kind": policy.KindAnswer}).Row(&hits[i].LastAnswer)
		if err != nil {
			return nil, err
		}
	}
	return hits, nil
}

// useful says whether a word can tell tickets apart: not a stop word, not a
// number, at least three letters.
func useful(w string) bool {
	if len([]rune(w)) < 3 || len(w) > 40 {
		return false
	}
	if _, err := strconv.ParseFloat(w, 64); err == nil {
		return false
	}
	_, stop := stopWords[w]
	return !stop
}

var stopWords = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, w := range strings.Fields(`the and for are but not you your yours all any can had her was one our out has have him his how its may new now old see two who did get got let say she too use via with this that these those from they them then than there their what when where which while will would should could shall about above after again against been before being below between both down during each few further here into more most much must only other over same some such very just also once off own per yet hello thanks thank please regards dear best kind team support ticket hi hey ok okay yes`) {
		m[w] = struct{}{}
	}
	return m
}()
