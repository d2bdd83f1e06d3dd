package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The full-text index of tickets.
//
// ticketSearchDocs holds one row per ticket with the text that search
// covers, in columns: subject, content (the first text), messages (answers
// and replies), notes, and customer (the customer's names, user name and
// email: the ticket's copies and the account's current values). Two FTS5
// indexes read it as their external content, so the text is stored once:
//
//   - ticketSearch indexes all five columns: staff search it.
//   - ticketSearchPublic indexes subject, content and messages only:
//     customers search it. A note's words and the customer columns are not
//     in it at all, so no query of a customer can match them, exclude by
//     them, or rank by their length (BM25 divides by the whole row's length).
//
// SQL triggers keep the documents in step with tickets, messages and users
// inside the transaction of every write, whatever surface made it (custom
// routes, record API, batch, dashboard, mail). The index is filled for the
// tickets that exist when this migration runs.
const searchSchema = `
CREATE TABLE ticketSearchDocs (
	rowid    INTEGER PRIMARY KEY,
	ticketId TEXT NOT NULL UNIQUE,
	subject  TEXT NOT NULL DEFAULT '',
	content  TEXT NOT NULL DEFAULT '',
	messages TEXT NOT NULL DEFAULT '',
	notes    TEXT NOT NULL DEFAULT '',
	customer TEXT NOT NULL DEFAULT ''
);

CREATE VIRTUAL TABLE ticketSearch USING fts5(
	subject, content, messages, notes, customer,
	content='ticketSearchDocs', content_rowid='rowid',
	tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE ticketSearchPublic USING fts5(
	subject, content, messages,
	content='ticketSearchDocs', content_rowid='rowid',
	tokenize='unicode61 remove_diacritics 2'
);

-- BM25 with the subject weighted above the text
INSERT INTO ticketSearch(ticketSearch, rank) VALUES ('rank', 'bm25(8.0, 3.0, 1.0, 1.0, 2.0)');
INSERT INTO ticketSearchPublic(ticketSearchPublic, rank) VALUES ('rank', 'bm25(8.0, 3.0, 1.0)');

-- the two indexes follow the documents
CREATE TRIGGER ticketSearchDocs_ai AFTER INSERT ON ticketSearchDocs BEGIN
	INSERT INTO ticketSearch(rowid, subject, content, messages, notes, customer)
	VALUES (NEW.rowid, NEW.subject, NEW.content, NEW.messages, NEW.notes, NEW.customer);
	INSERT INTO ticketSearchPublic(rowid, subject, content, messages)
	VALUES (NEW.rowid, NEW.subject, NEW.content, NEW.messages);
END;
CREATE TRIGGER ticketSearchDocs_ad AFTER DELETE ON ticketSearchDocs BEGIN
	INSERT INTO ticketSearch(ticketSearch, rowid, subject, content, messages, notes, customer)
	VALUES ('delete', OLD.rowid, OLD.subject, OLD.content, OLD.messages, OLD.notes, OLD.customer);
	INSERT INTO ticketSearchPublic(ticketSearchPublic, rowid, subject, content, messages)
	VALUES ('delete', OLD.rowid, OLD.subject, OLD.content, OLD.messages);
END;
CREATE TRIGGER ticketSearchDocs_au AFTER UPDATE ON ticketSearchDocs BEGIN
	INSERT INTO ticketSearch(ticketSearch, rowid, subject, content, messages, notes, customer)
	VALUES ('delete', OLD.rowid, OLD.subject, OLD.content, OLD.messages, OLD.notes, OLD.customer);
	INSERT INTO ticketSearch(rowid, subject, content, messages, notes, customer)
	VALUES (NEW.rowid, NEW.subject, NEW.content, NEW.messages, NEW.notes, NEW.customer);
	INSERT INTO ticketSearchPublic(ticketSearchPublic, rowid, subject, content, messages)
	SELECT 'delete', OLD.rowid, OLD.subject, OLD.content, OLD.messages
	WHERE OLD.subject IS NOT NEW.subject OR OLD.content IS NOT NEW.content OR OLD.messages IS NOT NEW.messages;
	INSERT INTO ticketSearchPublic(rowid, subject, content, messages)
	SELECT NEW.rowid, NEW.subject, NEW.content, NEW.messages
	WHERE OLD.subject IS NOT NEW.subject OR OLD.content IS NOT NEW.content OR OLD.messages IS NOT NEW.messages;
END;

-- tickets: a new ticket gets its document; a change of its text or its
-- customer data rewrites it (PocketBase writes every column on each save,
-- so the WHEN clause keeps takes and closes away from the index)
CREATE TRIGGER tickets_search_ai AFTER INSERT ON tickets BEGIN
	INSERT INTO ticketSearchDocs (ticketId, subject, content, customer)
	VALUES (NEW.id, NEW.ticketSubject, NEW.ticketContent,
		trim(NEW.customerFirstName || ' ' || NEW.customerLastName || ' ' || NEW.customerUserName || ' ' || NEW.userEmail || ' ' ||
			COALESCE((SELECT u.userFirstName || ' ' || u.userLastName || ' ' || u.userName || ' ' || u.email FROM users u WHERE u.id = NEW.customerId), '')));
END;
CREATE TRIGGER tickets_search_au AFTER UPDATE ON tickets
WHEN NEW.ticketSubject IS NOT OLD.ticketSubject OR NEW.ticketContent IS NOT OLD.ticketContent
	OR NEW.customerFirstName IS NOT OLD.customerFirstName OR NEW.customerLastName IS NOT OLD.customerLastName
	OR NEW.customerUserName IS NOT OLD.customerUserName OR NEW.userEmail IS NOT OLD.userEmail
	OR NEW.customerId IS NOT OLD.customerId BEGIN
	UPDATE ticketSearchDocs SET subject = NEW.ticketSubject, content = NEW.ticketContent,
		customer = trim(NEW.customerFirstName || ' ' || NEW.customerLastName || ' ' || NEW.customerUserName || ' ' || NEW.userEmail || ' ' ||
			COALESCE((SELECT u.userFirstName || ' ' || u.userLastName || ' ' || u.userName || ' ' || u.email FROM users u WHERE u.id = NEW.customerId), ''))
	WHERE ticketId = NEW.id;
END;
CREATE TRIGGER tickets_search_ad AFTER DELETE ON tickets BEGIN
	DELETE FROM ticketSearchDocs WHERE ticketId = OLD.id;
END;

-- messages: a new one is appended to its column; an edit or a delete
-- (operators only) rebuilds both columns of its ticket
CREATE TRIGGER messages_search_ai AFTER INSERT ON messages BEGIN
	UPDATE ticketSearchDocs SET
		messages = CASE WHEN NEW.kind = 'note' THEN messages WHEN messages = '' THEN NEW.body ELSE messages || char(10) || NEW.body END,
		notes = CASE WHEN NEW.kind != 'note' THEN notes WHEN notes = '' THEN NEW.body ELSE notes || char(10) || NEW.body END
	WHERE ticketId = NEW.ticket;
END;
CREATE TRIGGER messages_search_au AFTER UPDATE ON messages
WHEN NEW.body IS NOT OLD.body OR NEW.kind IS NOT OLD.kind BEGIN
	UPDATE ticketSearchDocs SET
		messages = COALESCE((SELECT group_concat(body, char(10)) FROM (SELECT body FROM messages WHERE ticket = NEW.ticket AND kind != 'note' ORDER BY createdAt, rowid)), ''),
		notes = COALESCE((SELECT group_concat(body, char(10)) FROM (SELECT body FROM messages WHERE ticket = NEW.ticket AND kind = 'note' ORDER BY createdAt, rowid)), '')
	WHERE ticketId = NEW.ticket;
END;
CREATE TRIGGER messages_search_ad AFTER DELETE ON messages BEGIN
	UPDATE ticketSearchDocs SET
		messages = COALESCE((SELECT group_concat(body, char(10)) FROM (SELECT body FROM messages WHERE ticket = OLD.ticket AND kind != 'note' ORDER BY createdAt, rowid)), ''),
		notes = COALESCE((SELECT group_concat(body, char(10)) FROM (SELECT body FROM messages WHERE ticket = OLD.ticket AND kind = 'note' ORDER BY createdAt, rowid)), '')
	WHERE ticketId = OLD.ticket;
END;

-- users: a customer's new names or email reach the documents of its tickets
CREATE TRIGGER users_search_au AFTER UPDATE ON users
WHEN NEW.userName IS NOT OLD.userName OR NEW.email IS NOT OLD.email
	OR NEW.userFirstName IS NOT OLD.userFirstName OR NEW.userLastName IS NOT OLD.userLastName BEGIN
	UPDATE ticketSearchDocs SET customer = (
		SELECT trim(t.customerFirstName || ' ' || t.customerLastName || ' ' || t.customerUserName || ' ' || t.userEmail || ' ' ||
			NEW.userFirstName || ' ' || NEW.userLastName || ' ' || NEW.userName || ' ' || NEW.email)
		FROM tickets t WHERE t.id = ticketSearchDocs.ticketId)
	WHERE ticketId IN (SELECT id FROM tickets WHERE customerId = NEW.id);
END;
`

// SearchBackfill makes the documents of the existing tickets (the triggers
// above fill both indexes). The bench reuses it after a bulk seed.
const SearchBackfill = `
INSERT INTO ticketSearchDocs (ticketId, subject, content, messages, notes, customer)
SELECT t.id, t.ticketSubject, t.ticketContent,
	COALESCE((SELECT group_concat(body, char(10)) FROM (SELECT body FROM messages WHERE ticket = t.id AND kind != 'note' ORDER BY createdAt, rowid)), ''),
	COALESCE((SELECT group_concat(body, char(10)) FROM (SELECT body FROM messages WHERE ticket = t.id AND kind = 'note' ORDER BY createdAt, rowid)), ''),
	trim(t.customerFirstName || ' ' || t.customerLastName || ' ' || t.customerUserName || ' ' || t.userEmail || ' ' ||
		COALESCE((SELECT u.userFirstName || ' ' || u.userLastName || ' ' || u.userName || ' ' || u.email FROM users u WHERE u.id = t.customerId), ''))
FROM tickets t ORDER BY t.rowid;
`

const searchDrop = `
DROP TRIGGER IF EXISTS users_search_au;
DROP TRIGGER IF EXISTS messages_search_ad;
DROP TRIGGER IF EXISTS messages_search_au;
DROP TRIGGER IF EXISTS messages_search_ai;
DROP TRIGGER IF EXISTS tickets_search_ad;
DROP TRIGGER IF EXISTS tickets_search_au;
DROP TRIGGER IF EXISTS tickets_search_ai;
DROP TRIGGER IF EXISTS ticketSearchDocs_au;
DROP TRIGGER IF EXISTS ticketSearchDocs_ad;
DROP TRIGGER IF EXISTS ticketSearchDocs_ai;
DROP TABLE IF EXISTS ticketSearchPublic;
DROP TABLE IF EXISTS ticketSearch;
DROP TABLE IF EXISTS ticketSearchDocs;
`

func init() {
	m.Register(func(app core.App) error {
		if _, err := app.DB().NewQuery(searchSchema).Execute(); err != nil {
			return err
		}
		_, err := app.DB().NewQuery(SearchBackfill).Execute()
		return err
	}, func(app core.App) error {
		_, err := app.DB().NewQuery(searchDrop).Execute()
		return err
	})
}
