package routes_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// Every conversation route takes files from every caller kind that may use
// it; the others are refused before anything is stored.
func TestFilesOnTheRoutes(t *testing.T) {
	shot := pngBytes(t)
	staff := []string{testapp.Admin, "other admin", testapp.SuperAdmin, testapp.Operator}

	body, ct := formBody(t, [][2]string{{"ticketContent", "Printer on fire."}}, upFile{"shot.png", shot})
	sent := callerWant{status: 201,
		content: []string{`"ticketContent":"Printer on fire."`, fmt.Sprintf(`"attachments":[{"name":"shot.png","size":%d,"type":"image/png","url":"/api/files/tickets/`, len(shot)), `?token=`, `"thumbUrl":"`},
		events:  map[string]int{"OnRecordCreate": 2, "OnRecordUpdate": 0},
		check:   filesStored(policy.Tickets, 1)}
	refused := func(w callerWant) callerWant { w.check = filesStored(policy.Tickets, 0); return w }
	filesAsCallers(t, "sends a ticket with a file", "POST", "/sendTicket", body, ct, nil, testapp.Merge(
		testapp.Each(refused(unauthorized), outsiders...), testapp.Each(refused(forbidden), testapp.Unverified),
		testapp.Each(refused(forbidden), staff...),
		testapp.Each(sent, testapp.Owner, testapp.OtherCustomer),
	))

	body, ct = formBody(t, [][2]string{{"reply", "Here is the log."}}, upFile{"app.log", logFile})
	replied := callerWant{status: 201,
		content: []string{`"kind":"reply","body":"Here is the log."`, fmt.Sprintf(`{"name":"app.log","size":%d,"type":"text/plain; charset=utf-8","url":"/api/files/messages/`, len(logFile))},
		events:  map[string]int{"OnRecordCreate": 2, "OnRecordUpdate": 1},
		check:   filesStored(policy.Messages, 1)}
	noMessageFile := func(w callerWant) callerWant { w.check = filesStored(policy.Messages, 0); return w }
	filesAsCallers(t, "replies with a file", "POST", "/replyOnTicket/"+testapp.TakenTicketId, body, ct, nil, testapp.Merge(
		testapp.Each(noMessageFile(unauthorized), outsiders...), testapp.Each(noMessageFile(forbidden), staff...),
		map[string]callerWant{testapp.Owner: replied, testapp.OtherCustomer: noMessageFile(notFound)},
	))

	body, ct = formBody(t, [][2]string{{"answer", "See the guide."}}, upFile{"guide.pdf", pdfFile})
	answered := callerWant{status: 200,
		content: []string{`"body":"See the guide."`, fmt.Sprintf(`{"name":"guide.pdf","size":%d,"type":"application/pdf","url":"/api/files/messages/`, len(pdfFile))},
		events:  map[string]int{"OnRecordCreate": 2, "OnRecordUpdate": 1},
		check:   filesStored(policy.Messages, 1)}
	filesAsCallers(t, "answers with a file", "PATCH", "/sendAnswerOnTicket/"+testapp.TicketId, body, ct, nil, testapp.Merge(
		testapp.Each(noMessageFile(unauthorized), outsiders...), testapp.Each(noMessageFile(forbidden), customers...),
		testapp.Each(answered, staff...),
	))

	body, ct = formBody(t, [][2]string{{"note", "Screenshot from the call."}}, upFile{"call.png", shot})
	noted := callerWant{status: 201,
		content: []string{`"kind":"note","body":"Screenshot from the call."`, `{"name":"call.png"`, `"type":"image/png"`},
		events:  map[string]int{"OnRecordCreate": 2, "OnRecordUpdate": 0},
		check:   filesStored(policy.Messages, 1)}
	filesAsCallers(t, "notes with a file", "POST", "/addNoteOnTicket/"+testapp.TicketId, body, ct, nil, testapp.Merge(
		testapp.Each(noMessageFile(unauthorized), outsiders...), testapp.Each(noMessageFile(forbidden), customers...),
		testapp.Each(noted, staff...),
	))
}

// A form takes exactly the JSON body's fields, plus files.
func TestFilesFormFields(t *testing.T) {
	owner := testapp.Headers(t, testapp.Owner)
	cases := []struct {
		name   string
		body   func() (string, string)
		status int
		want   string
	}{
		{"a form without files", func() (string, string) {
			return formBody(t, [][2]string{{"reply", "Just text."}})
		}, 201, `"attachments":[]`},
		{"an unknown field", func() (string, string) {
			return formBody(t, [][2]string{{"reply", "Hi"}, {"kind", "note"}})
		}, 400, `"kind":{"code":"validation_unknown_field"`},
		{"a file under another name", func() (string, string) {
			return formAs(t, "attachments", [][2]string{{"reply", "Hi"}}, upFile{"a.txt", logFile})
		}, 400, `"attachments":{"code":"validation_unknown_field"`},
		{"a field twice", func() (string, string) {
			return formBody(t, [][2]string{{"reply", "Hi"}, {"reply", "again"}})
		}, 400, `repeats a field`},
		{"no reply", func() (string, string) {
			return formBody(t, nil, upFile{"a.txt", logFile})
		}, 400, `"reply":{"code":"validation_required"`},
		{"an empty file", func() (string, string) {
			return formBody(t, [][2]string{{"reply", "Hi"}}, upFile{"empty.txt", nil})
		}, 400, `empty.txt`},
	}
	for _, c := range cases {
		body, ct := c.body()
		h := map[string]string{"Content-Type": ct}
		for k, v := range owner {
			h[k] = v
		}
		w := callerWant{status: c.status, content: []string{c.want}, events: noWrites, check: filesStored(policy.Messages, 0)}
		if c.status < 300 {
			w.events = map[string]int{"OnRecordCreate": 2}
		}
		acctRun(t, c.name, "POST", "/replyOnTicket/"+testapp.TicketId, body, h, nil, w)
	}
}

// The settings' limits hold on the routes and on the record API alike: a
// 413 names the file, and nothing is stored.
func TestFileLimits(t *testing.T) {
	limits := setLimits(2, 1)
	mib := bytes.Repeat([]byte("a"), 1<<20)
	over := append(append([]byte{}, mib...), 'b')
	owner := testapp.Headers(t, testapp.Owner)
	withCT := func(ct string) map[string]string {
		h := map[string]string{"Content-Type": ct}
		for k, v := range owner {
			h[k] = v
		}
		return h
	}
	refused := func(name string) callerWant {
		return callerWant{status: 413, content: []string{`"status":413`, name}, events: noWrites,
			check: all(filesStored(policy.Messages, 0), filesStored(policy.Tickets, 0))}
	}
	reply := [][2]string{{"reply", "Files."}}
	apiReply := [][2]string{{"ticket", testapp.TicketId}, {"kind", "reply"}, {"body", "Files."}, {"authorId", testapp.CustomerId}}
	cases := []struct {
		name, method, url string
		fields            [][2]string
		field             string
		files             []upFile
		want              callerWant
	}{
		{"three files on a reply", "POST", "/replyOnTicket/" + testapp.TicketId, reply, "files",
			[]upFile{{"one.txt", logFile}, {"two.txt", logFile}, {"three.txt", logFile}}, refused("three.txt")},
		{"a file over 1 MiB on a reply", "POST", "/replyOnTicket/" + testapp.TicketId, reply, "files",
			[]upFile{{"small.txt", logFile}, {"big.bin", over}}, refused("big.bin")},
		{"a file over 1 MiB on a ticket", "POST", "/sendTicket", [][2]string{{"ticketContent", "Hi"}}, "files",
			[]upFile{{"big.bin", over}}, refused("big.bin")},
		{"two files of 1 MiB on a reply", "POST", "/replyOnTicket/" + testapp.TicketId, reply, "files",
			[]upFile{{"a.bin", mib}, {"b.bin", mib}}, callerWant{status: 201, content: []string{`"name":"a.bin","size":1048576`, `"name":"b.bin"`},
				events: map[string]int{"OnRecordCreate": 2}, check: filesStored(policy.Messages, 2)}},
		{"three files through the record API", "POST", "/api/collections/messages/records", apiReply, "attachments",
			[]upFile{{"one.txt", logFile}, {"two.txt", logFile}, {"three.txt", logFile}}, refused("three.txt")},
		{"a file over 1 MiB through the record API", "POST", "/api/collections/messages/records", apiReply, "attachments",
			[]upFile{{"big.bin", over}}, refused("big.bin")},
		{"a ticket with a file over 1 MiB through the record API", "POST", "/api/collections/tickets/records",
			[][2]string{{"customerId", testapp.CustomerId}, {"ticketContent", "Hi"}}, "attachments", []upFile{{"big.bin", over}}, refused("big.bin")},
		{"two files through the record API", "POST", "/api/collections/messages/records", apiReply, "attachments",
			[]upFile{{"one.txt", logFile}, {"two.png", pngBytes(t)}}, callerWant{status: 200,
				content: []string{`"attachments":[{"name":"one.txt"`, `"type":"image/png"`, `?token=`}, events: map[string]int{"OnRecordCreate": 2},
				check: filesStored(policy.Messages, 2)}},
	}
	for _, c := range cases {
		var body, ct string
		if c.field == "files" {
			body, ct = formBody(t, c.fields, c.files...)
		} else {
			body, ct = formAs(t, c.field, c.fields, c.files...)
		}
		acctRun(t, c.name, c.method, c.url, body, withCT(ct), limits, c.want)
	}

	// a body over what the settings allow is cut before PocketBase reads it
	huge := bytes.Repeat([]byte("h"), 4<<20)
	body, ct := formAs(t, "attachments", apiReply, upFile{"huge.bin", huge})
	w := refused("Request entity too large")
	w.absent = []string{"huge.bin"}
	acctRun(t, "a body over the settings' limits through the record API", "POST", "/api/collections/messages/records", body, withCT(ct), limits, w)

	// no files at all
	body, ct = formBody(t, reply, upFile{"one.txt", logFile})
	acctRun(t, "a file when the settings allow none", "POST", "/replyOnTicket/"+testapp.TicketId, body, withCT(ct), setLimits(0, 1), refused("one.txt"))

	// nobody but an operator changes the files of a ticket once sent
	body, ct = formAs(t, "attachments+", nil, upFile{"late.txt", logFile})
	admin := map[string]string{"Content-Type": ct, "Authorization": testapp.Headers(t, testapp.Admin)["Authorization"]}
	acctRun(t, "an admin adds a file to a ticket", "PATCH", "/api/collections/tickets/records/"+testapp.TicketId, body, admin, nil,
		callerWant{status: 403, content: []string{`"status":403`, `cannot be changed`}, events: noWrites, check: filesStored(policy.Tickets, 0)})
}

// formAs is formBody with the files under a chosen field name.
func formAs(t testing.TB, field string, fields [][2]string, files ...upFile) (string, string) {
	t.Helper()
	body, ct := formBody(t, fields, files...)
	return strings.ReplaceAll(body, `name="files"`, `name="`+field+`"`), ct
}

// conversationWithFiles gives alice's ticket a file of its own and a file
// on an answer, a note and a reply; it returns the ticket's id and the
// staff's view of the ticket (all URLs).
func conversationWithFiles(t *testing.T, base string) (string, ticketAnswer) {
	t.Helper()
	body, ct := formBody(t, [][2]string{{"ticketContent", "It crashes, see the screenshot."}}, upFile{"crash.png", pngBytes(t)})
	status, raw := send(t, "POST", base+"/sendTicket", testapp.Token(t, testapp.Owner), ct, body)
	if status != 201 {
		t.Fatalf("send: %d %s", status, raw)
	}
	id := decodeTicket(t, raw).Data.Id
	for _, step := range []struct{ method, path, kind, field, text string }{
		{"POST", "/addNoteOnTicket/", testapp.Admin, "note", "Internal: known bug."},
		{"PATCH", "/sendAnswerOnTicket/", testapp.Admin, "answer", "See the guide."},
		{"POST", "/replyOnTicket/", testapp.Owner, "reply", "Log attached."},
	} {
		body, ct := formBody(t, [][2]string{{step.field, step.text}}, upFile{step.field + ".pdf", pdfFile})
		if status, raw := send(t, step.method, base+step.path+id, testapp.Token(t, step.kind), ct, body); status >= 300 {
			t.Fatalf("%s: %d %s", step.path, status, raw)
		}
	}
	status, raw = call(t, "GET", base+"/getTicket/"+id, testapp.Token(t, testapp.SuperAdmin), "")
	if status != 200 {
		t.Fatalf("getTicket: %d %s", status, raw)
	}
	return id, decodeTicket(t, raw)
}

// A customer never gets another customer's file or a note's file, and an
// admin loses the files of a ticket when it closes: not through the
// routes, not with a file token, not through the record API.
func TestFileAccessFollowsTheRules(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	id, staffView := conversationWithFiles(t, base)

	// the URLs of every file, by what they are
	urls := map[string]string{"ticket": withoutToken(staffView.Data.Attachments[0].URL)}
	for _, m := range staffView.Data.Messages {
		if len(m.Attachments) == 1 {
			urls[m.Kind] = withoutToken(m.Attachments[0].URL)
		}
	}
	if len(urls) != 4 {
		t.Fatalf("the staff's view lacks files: %v", urls)
	}

	// alice: her view has no note, and her URLs work
	status, raw := call(t, "GET", base+"/getTicket/"+id, testapp.Token(t, testapp.Owner), "")
	alice := decodeTicket(t, raw)
	if status != 200 || len(alice.Data.Attachments) != 1 || strings.Contains(string(raw), "note.pdf") || strings.Contains(string(raw), urls["note"]) {
		t.Fatalf("alice's view: %d %s", status, raw)
	}
	for _, m := range alice.Data.Messages {
		for _, a := range m.Attachments {
			if s, _, got := download(t, base+a.URL); s != 200 || !bytes.Equal(got, pdfFile) {
				t.Errorf("alice downloads her %s file: %d", m.Kind, s)
			}
		}
	}
	if s, _, _ := download(t, base+alice.Data.Attachments[0].URL); s != 200 {
		t.Errorf("alice downloads her ticket's file: %d", s)
	}

	aliceFT, bobFT, adminFT, bossFT := fileTokenOf(t, base, testapp.Owner), fileTokenOf(t, base, testapp.OtherCustomer),
		fileTokenOf(t, base, testapp.Admin), fileTokenOf(t, base, testapp.SuperAdmin)
	refused := []struct {
		who, what, token string
	}{
		{"alice", "note", aliceFT},
		{"bob", "ticket", bobFT}, {"bob", "reply", bobFT}, {"bob", "answer", bobFT}, {"bob", "note", bobFT},
		{"a guest", "ticket", ""}, {"a guest", "answer", ""},
		{"a forged token", "ticket", testapp.Token(t, testapp.Forged)},
		{"alice's auth token (not a file token)", "ticket", testapp.Token(t, testapp.Owner)},
	}
	for _, r := range refused {
		if s, _, _ := download(t, base+urls[r.what]+"?token="+r.token); s != 404 {
			t.Errorf("%s downloads the %s file: %d, want 404", r.who, r.what, s)
		}
	}
	// the routes refuse bob the ticket, so he never gets its URLs
	if s, _ := call(t, "GET", base+"/getTicket/"+id, testapp.Token(t, testapp.OtherCustomer), ""); s != 404 {
		t.Errorf("bob views alice's ticket: %d", s)
	}
	// the record API: view, list, expand
	noteId := ""
	for _, m := range staffView.Data.Messages {
		if m.Kind == "note" {
			noteId = m.Id
		}
	}
	for _, c := range []struct{ who, kind, url string }{
		{"alice", testapp.Owner, "/api/collections/messages/records/" + noteId},
		{"bob", testapp.OtherCustomer, "/api/collections/messages/records/" + staffView.Data.Messages[0].Id},
		{"bob", testapp.OtherCustomer, "/api/collections/tickets/records/" + id + "?expand=messages_via_ticket"},
	} {
		if s, raw := call(t, "GET", base+c.url, testapp.Token(t, c.kind), ""); s != 404 {
			t.Errorf("%s GET %s: %d %s", c.who, c.url, s, raw)
		}
	}
	for _, c := range []struct{ who, kind, url string }{
		{"alice", testapp.Owner, "/api/collections/tickets/records/" + id + "?expand=messages_via_ticket"},
		{"alice", testapp.Owner, "/api/collections/messages/records?filter=" + "ticket%3D%27" + id + "%27"},
		{"bob", testapp.OtherCustomer, "/api/collections/messages/records?filter=" + "ticket%3D%27" + id + "%27"},
	} {
		s, raw := call(t, "GET", base+c.url, testapp.Token(t, c.kind), "")
		if s != 200 || strings.Contains(string(raw), "note.pdf") || strings.Contains(string(raw), urls["note"]) {
			t.Errorf("%s GET %s shows the note's file: %d %s", c.who, c.url, s, raw)
		}
		if c.who == "bob" && strings.Contains(string(raw), ".pdf") {
			t.Errorf("bob's list shows alice's files: %s", raw)
		}
	}

	// staff while the ticket is active: every file
	for what, u := range urls {
		if s, _, _ := download(t, base+u+"?token="+adminFT); s != 200 {
			t.Errorf("the admin downloads the %s file of an active ticket: %d", what, s)
		}
	}
	// closed: the admin loses them, the superAdmin keeps them
	if s, raw := call(t, "PATCH", base+"/markTicketStatus/"+id, testapp.Token(t, testapp.SuperAdmin), `{"status":"markAsClosed"}`); s != 200 {
		t.Fatalf("close: %d %s", s, raw)
	}
	for what, u := range urls {
		if s, _, _ := download(t, base+u+"?token="+adminFT); s != 404 {
			t.Errorf("the admin downloads the %s file of a closed ticket: %d, want 404", what, s)
		}
		if s, _, _ := download(t, base+u+"?token="+bossFT); s != 200 {
			t.Errorf("the superAdmin downloads the %s file of a closed ticket: %d", what, s)
		}
	}
}

// Only PNG, JPEG, GIF and WebP show inline; HTML (whatever its name), SVG
// and the rest are downloads typed by their bytes, never sniffed.
func TestFileServingHeaders(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	shot := pngBytes(t)
	body, ct := formBody(t, [][2]string{{"reply", "Four files."}},
		upFile{"innocent.png", htmlFile}, upFile{"logo.svg", svgFile}, upFile{"doc.pdf", pdfFile}, upFile{"shot.png", shot})
	status, raw := send(t, "POST", base+"/replyOnTicket/"+testapp.TicketId, testapp.Token(t, testapp.Owner), ct, body)
	if status != 201 {
		t.Fatalf("reply: %d %s", status, raw)
	}
	files := decodeTicket(t, raw).lastFiles(t)
	want := []struct {
		name, typ, disposition string
		data                   []byte
	}{
		{"innocent.png", "text/html", "attachment", htmlFile},
		{"logo.svg", "image/svg+xml", "attachment", svgFile},
		{"doc.pdf", "application/pdf", "attachment", pdfFile},
		{"shot.png", "image/png", "inline", shot},
	}
	if len(files) != len(want) {
		t.Fatalf("%d files, want %d: %s", len(files), len(want), raw)
	}
	for i, w := range want {
		f := files[i]
		if f.Name != w.name || !strings.HasPrefix(f.Type, w.typ) {
			t.Errorf("file %d is %q %q, want %q %q", i, f.Name, f.Type, w.name, w.typ)
		}
		s, h, got := download(t, base+f.URL)
		if s != 200 || !bytes.Equal(got, w.data) {
			t.Errorf("%s: %d, %d bytes", w.name, s, len(got))
			continue
		}
		if !strings.HasPrefix(h.Get("Content-Type"), w.typ) {
			t.Errorf("%s served as %q, want %q", w.name, h.Get("Content-Type"), w.typ)
		}
		if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, w.disposition+";") || !strings.Contains(cd, w.name) {
			t.Errorf("%s: Content-Disposition %q, want %s with its name", w.name, cd, w.disposition)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("%s: nosniff %q, CSP %q", w.name, h.Get("X-Content-Type-Options"), h.Get("Content-Security-Policy"))
		}
		if (w.typ == "image/png") != (f.ThumbURL != "") {
			t.Errorf("%s: thumbUrl %q", w.name, f.ThumbURL)
		}
	}
	// the image's thumbnail
	s, h, thumb := download(t, base+files[3].ThumbURL)
	if s != 200 || h.Get("Content-Type") != "image/png" || len(thumb) == 0 || bytes.Equal(thumb, shot) {
		t.Errorf("thumbnail: %d %q %d bytes", s, h.Get("Content-Type"), len(thumb))
	}
	// ?download=1 makes even an image a download
	if _, h, _ := download(t, base+files[3].URL+"&download=1"); !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
		t.Errorf("?download=1: %q", h.Get("Content-Disposition"))
	}
}

// An answer's files travel with its mail (up to 10 MiB in all); the rest
// are listed with a link to the portal.
func TestAnswerMailCarriesTheFiles(t *testing.T) {
	app := testapp.New(t)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	base := testapp.Serve(t, app)

	body, ct := formBody(t, [][2]string{{"answer", "The guide is attached."}}, upFile{"guide.pdf", pdfFile}, upFile{"shot.png", pngBytes(t)})
	if status, raw := send(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TicketId, testapp.Token(t, testapp.Admin), ct, body); status != 200 {
		t.Fatalf("answer: %d %s", status, raw)
	}
	m := srv.WaitFor(t, "alice@example.com", "[#"+testapp.TicketId+"]", 20*time.Second) // ticket mails are subjected [#id] subject
	got := mailAttachments(t, m.Raw)
	if !bytes.Equal(got["guide.pdf"], pdfFile) || !bytes.Equal(got["shot.png"], pngBytes(t)) {
		t.Errorf("the mail's attachments: %d files %v", len(got), keys(got))
	}

	// 6 MiB + 6 MiB: the first travels, the second is listed
	six := bytes.Repeat([]byte("0123456789abcdef"), 6<<16)
	body, ct = formBody(t, [][2]string{{"answer", "Two big files."}}, upFile{"first.bin", six}, upFile{"second.bin", six})
	if status, raw := send(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TakenTicketId, testapp.Token(t, testapp.Admin), ct, body); status != 200 {
		t.Fatalf("answer: %d %s", status, raw)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Mails()) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	mails := srv.Mails()
	if len(mails) != 2 {
		t.Fatalf("%d mails", len(mails))
	}
	big := mails[1]
	got = mailAttachments(t, big.Raw)
	if !bytes.Equal(got["first.bin"], six) || got["second.bin"] != nil {
		t.Errorf("the big answer's attachments: %v", keys(got))
	}
	if !strings.Contains(big.Text, "second.bin (6.0 MiB)") || !strings.Contains(big.HTML, "second.bin (6.0 MiB)") || !strings.Contains(big.Text, "too large for a mail") {
		t.Errorf("the mail does not list the file left out:\n%s", big.Text)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Deleting a ticket deletes its files and its messages' files (the
// messages go by cascade).
func TestDeletingATicketDeletesItsFiles(t *testing.T) {
	for _, via := range []string{"route", "record API"} {
		t.Run(via, func(t *testing.T) {
			app := testapp.New(t)
			base := testapp.Serve(t, app)
			id, _ := conversationWithFiles(t, base)
			if n, m := storedFileCount(t, app, policy.Tickets), storedFileCount(t, app, policy.Messages); n != 1 || m != 3 {
				t.Fatalf("before: %d ticket files, %d message files", n, m)
			}
			url, kind := "/deleteSpecificTicket/"+id, testapp.SuperAdmin
			if via == "record API" {
				url, kind = "/api/collections/tickets/records/"+id, testapp.Operator
			}
			status, raw := call(t, "DELETE", base+url, testapp.Token(t, kind), "")
			if status != 200 && status != 204 {
				t.Fatalf("delete: %d %s", status, raw)
			}
			deadline := time.Now().Add(10 * time.Second) // PocketBase deletes files after the commit
			for time.Now().Before(deadline) && storedFileCount(t, app, policy.Tickets)+storedFileCount(t, app, policy.Messages) > 0 {
				time.Sleep(50 * time.Millisecond)
			}
			if n, m := storedFileCount(t, app, policy.Tickets), storedFileCount(t, app, policy.Messages); n != 0 || m != 0 {
				t.Errorf("after: %d ticket files, %d message files left", n, m)
			}
		})
	}
}

// A reply past the reopen window starts a follow-up ticket: the reply's
// files become that ticket's own files.
func TestFollowUpTakesTheReplyFiles(t *testing.T) {
	app := testapp.New(t)
	closedDaysAgo(20)(t, app)
	base := testapp.Serve(t, app)
	body, ct := formBody(t, [][2]string{{"reply", "Still broken, log attached."}}, upFile{"app.log", logFile})
	status, raw := send(t, "POST", base+"/replyOnTicket/"+testapp.ClosedTicketId, testapp.Token(t, testapp.Owner), ct, body)
	a := decodeTicket(t, raw)
	if status != 201 || a.Data.Id == testapp.ClosedTicketId || len(a.Data.Attachments) != 1 || a.Data.Attachments[0].Name != "app.log" {
		t.Fatalf("follow-up: %d %s", status, raw)
	}
	if s, _, got := download(t, base+a.Data.Attachments[0].URL); s != 200 || !bytes.Equal(got, logFile) {
		t.Errorf("the follow-up's file: %d", s)
	}
}

// Realtime messages carry files without anyone's token: one message is
// built for every subscriber of a kind, and a token is one account's.
func TestRealtimeFilesCarryNoToken(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	s := testapp.ConnectSSE(t, base)
	s.MustSubscribe(testapp.Token(t, testapp.Owner), "messages/*", "tickets/"+testapp.TicketId)
	body, ct := formBody(t, [][2]string{{"answer", "See the guide."}}, upFile{"guide.pdf", pdfFile})
	if status, raw := send(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TicketId, testapp.Token(t, testapp.Admin), ct, body); status != 200 {
		t.Fatalf("answer: %d %s", status, raw)
	}
	seen := 0
	for seen < 2 {
		ev, ok := s.Next(10 * time.Second)
		if !ok {
			t.Fatalf("%d realtime events with the file, want 2", seen)
		}
		if !strings.Contains(ev.Data, "guide.pdf") {
			continue
		}
		seen++
		if strings.Contains(ev.Data, "token=") || !strings.Contains(ev.Data, `"url":"/api/files/messages/`) {
			t.Errorf("%s carries a token or no URL: %s", ev.Name, ev.Data)
		}
	}
}

// A broken form is a 400, never a 5xx, and stores nothing.
func TestBrokenForms(t *testing.T) {
	_, base := serveUnthrottled(t)
	token := testapp.Token(t, testapp.Owner)
	cases := []struct{ name, ct, body string }{
		{"no boundary", "multipart/form-data", "--b\r\nContent-Disposition: form-data; name=\"reply\"\r\n\r\nx\r\n--b--\r\n"},
		{"a wrong boundary", "multipart/form-data; boundary=zz", "--b\r\nContent-Disposition: form-data; name=\"reply\"\r\n\r\nx\r\n--b--\r\n"},
		{"cut off in a file", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"reply\"\r\n\r\nx\r\n--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\nhalf a fi"},
		{"a field that is not UTF-8", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"reply\"\r\n\r\n\xff\xfe\r\n--b--\r\n"},
		{"a NUL in a field", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"reply\"\r\n\r\na\x00b\r\n--b--\r\n"},
	}
	for _, c := range cases {
		status, raw := send(t, "POST", base+"/replyOnTicket/"+testapp.TicketId, token, c.ct, c.body)
		if status != 400 {
			t.Errorf("%s: %d %s", c.name, status, raw)
		}
	}
}
