package store

import (
	"fmt"
	"mime"
	"net/url"
	"strings"

	"github.com/gabriel-vasile/mimetype"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"

	"ticketportal/settings"
)

// Files. A ticket (the files sent with its first
// text) and each message keep their files in the protected file field
// FilesField; FilesMetaField holds the name, size and type of each stored
// file, keyed by its stored name, written by the record hook of every save
// (WriteFilesMeta) from the bytes, so that listing files reads no storage.

// The file fields of tickets and messages.
const (
	FilesField     = "attachments"
	FilesMetaField = "attachmentsMeta"
)

// FileMeta is what the server knows of one stored file.
type FileMeta struct {
	Name string `json:"name"` // the name it was sent with
	Size int64  `json:"size"` // bytes
	Type string `json:"type"` // detected from the bytes, e.g. "image/png"
}

// Attachment is one file as a ticket response shows it. URL downloads it
// (with "?token=" and the caller's file token appended by ShapeFiles);
// ThumbURL is a 100x100 thumbnail, for images only.
type Attachment struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	Type     string `json:"type"`
	URL      string `json:"url"`
	ThumbURL string `json:"thumbUrl,omitzero"`
}

// InlineTypes are the only types a browser is allowed to show inline; every
// other file is served as a download (HTML, SVG and scripts in particular).
var InlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// BaseType is a media type without its parameters ("text/plain; charset=utf-8" → "text/plain").
func BaseType(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.SplitN(t, ";", 2)[0]))
	}
	return mt
}

// FileLimitError refuses files over the settings' limits; the routes and
// the record API answer it with a 413 that names the file.
type FileLimitError struct {
	File    string // the name the file was sent with
	Message string
}

func (e *FileLimitError) Error() string { return e.Message }

// CheckFiles applies the settings' maxAttachments (counting the existing
// files already on the record) and maxAttachmentMB to files about to be
// added.
func CheckFiles(app core.App, existing int, files []*filesystem.File) error {
	s := settings.Get(app)
	for i, f := range files {
		if existing+i+1 > s.MaxAttachments {
			return &FileLimitError{File: f.OriginalName, Message: fmt.Sprintf(
				"Too many files: %q is file %d, and a message takes at most %d.", f.OriginalName, existing+i+1, s.MaxAttachments)}
		}
		if f.Size > int64(s.MaxAttachmentMB)<<20 {
			return TooLarge(f.OriginalName, s.MaxAttachmentMB)
		}
	}
	return nil
}

// TooLarge is the error for a file over maxAttachmentMB.
func TooLarge(name string, maxMB int) *FileLimitError {
	return &FileLimitError{File: name, Message: fmt.Sprintf("The file %q is larger than %d MiB.", name, maxMB)}
}

// AttachFiles adds files to a ticket or message record that is about to be
// saved (new or not), within the settings' limits (a *FileLimitError
// otherwise, and nothing is added). The files are stored, and their
// attachmentsMeta written, by app.Save(record) in the caller's transaction:
//
//	msg := core.NewRecord(messages)            // kind, body, ticket, authorId ...
//	if err := store.AttachFiles(tx, msg, files); err != nil { ... }  // e.g. drop the files and say so
//	err := tx.Save(msg)
//
// Inbound mail turns its attachments into files this way
// (filesystem.NewFileFromBytes(data, name) for each).
func AttachFiles(app core.App, record *core.Record, files []*filesystem.File) error {
	if len(files) == 0 {
		return nil
	}
	if err := CheckFiles(app, len(StoredFiles(record)), files); err != nil {
		return err
	}
	record.Set(FilesField+"+", files)
	return nil
}

// StoredFiles lists the names of the files already stored on a record (not
// the ones waiting to be uploaded by its next save).
func StoredFiles(record *core.Record) []string {
	var out []string
	switch v := record.GetRaw(FilesField).(type) {
	case string:
		if v != "" {
			out = append(out, v)
		}
	case []string:
		out = append(out, v...)
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// FilesMeta reads a record's attachmentsMeta.
func FilesMeta(record *core.Record) map[string]FileMeta {
	meta := map[string]FileMeta{}
	_ = record.UnmarshalJSONField(FilesMetaField, &meta)
	return meta
}

// WriteFilesMeta sets attachmentsMeta to describe exactly the record's
// files: the entries of the stored ones are kept from the stored record,
// the new uploads are read (their first bytes give the type). Whatever a
// client sent as attachmentsMeta is replaced.
func WriteFilesMeta(record *core.Record) error {
	old := map[string]FileMeta{}
	if !record.IsNew() {
		old = FilesMeta(record.Original())
	}
	meta := map[string]FileMeta{}
	for _, name := range StoredFiles(record) {
		if m, ok := old[name]; ok {
			meta[name] = m
		} else {
			meta[name] = FileMeta{Name: name, Type: "application/octet-stream"}
		}
	}
	for _, f := range record.GetUnsavedFiles(FilesField) {
		t, err := detect(f)
		if err != nil {
			return err
		}
		meta[f.Name] = FileMeta{Name: displayName(f), Size: f.Size, Type: t}
	}
	record.Set(FilesMetaField, meta)
	return nil
}

// displayName is the name a file was sent with, as shown and served back.
func displayName(f *filesystem.File) string {
	name := strings.TrimSpace(strings.ToValidUTF8(f.OriginalName, "_"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 200 {
		name = string(r[len(r)-200:])
	}
	if name == "" {
		return f.Name
	}
	return name
}

// detect reads the type of a file from its first bytes.
func detect(f *filesystem.File) (string, error) {
	r, err := f.Reader.Open()
	if err != nil {
		return "", fmt.Errorf("reading %q: %w", f.OriginalName, err)
	}
	defer r.Close()
	mt, err := mimetype.DetectReader(r)
	if err != nil {
		return "", fmt.Errorf("reading %q: %w", f.OriginalName, err)
	}
	return mt.String(), nil
}

// FileURL is the download path of a stored file (without a token).
func FileURL(record *core.Record, storedName string) string {
	return "/api/files/" + url.PathEscape(record.Collection().Name) + "/" + url.PathEscape(record.Id) + "/" + url.PathEscape(storedName)
}

// AttachmentsOf lists a ticket's or message's files in the order they were
// added, with URLs that still need the caller's token.
func AttachmentsOf(record *core.Record) []Attachment {
	names := StoredFiles(record)
	out := make([]Attachment, 0, len(names))
	if len(names) == 0 {
		return out
	}
	meta := FilesMeta(record)
	for _, name := range names {
		m, ok := meta[name]
		if !ok {
			m = FileMeta{Name: name, Type: "application/octet-stream"}
		}
		a := Attachment{Name: m.Name, Size: m.Size, Type: m.Type, URL: FileURL(record, name)}
		if InlineTypes[BaseType(m.Type)] {
			a.ThumbURL = a.URL + "?thumb=100x100"
		}
		out = append(out, a)
	}
	return out
}

// attachmentsAny is AttachmentsOf as the []any of Message.Attachments.
func attachmentsAny(record *core.Record) []any {
	list := AttachmentsOf(record)
	out := make([]any, len(list))
	for i, a := range list {
		out[i] = a
	}
	return out
}

// withToken appends a file token to an attachment's URLs.
func withToken(a Attachment, token string) Attachment {
	if token == "" {
		return a
	}
	q := url.QueryEscape(token)
	a.URL += "?token=" + q
	if a.ThumbURL != "" {
		a.ThumbURL += "&token=" + q
	}
	return a
}

// ShapeFiles sets each shaped ticket's own `attachments` to its files as
// objects and adds token (the caller's file token, "" for none) to the URLs
// of the ticket's and its messages' files. Call it after ShapeTickets, on
// records that are only answered, never saved again.
func ShapeFiles(token string, tickets ...*core.Record) {
	for _, t := range tickets {
		if _, done := t.GetRaw(FilesField).([]Attachment); done {
			continue
		}
		own := AttachmentsOf(t)
		for i := range own {
			own[i] = withToken(own[i], token)
		}
		t.SetRaw(FilesField, own)
		if token == "" {
			continue
		}
		msgs, _ := t.GetRaw("messages").([]Message)
		for i := range msgs {
			for j, a := range msgs[i].Attachments {
				if att, ok := a.(Attachment); ok {
					msgs[i].Attachments[j] = withToken(att, token)
				}
			}
		}
	}
}

// ShapeMessageFiles is ShapeFiles for message records of the record API.
func ShapeMessageFiles(token string, messages ...*core.Record) {
	for _, m := range messages {
		if _, done := m.GetRaw(FilesField).([]Attachment); done {
			continue
		}
		own := AttachmentsOf(m)
		for i := range own {
			own[i] = withToken(own[i], token)
		}
		m.SetRaw(FilesField, own)
	}
}

// FileToken is the caller's file token ("" for a guest).
func FileToken(auth *core.Record) string {
	if auth == nil {
		return ""
	}
	token, err := auth.NewFileToken()
	if err != nil {
		return ""
	}
	return token
}
