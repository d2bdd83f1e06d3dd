package routes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"
	"github.com/pocketbase/pocketbase/tools/router"

	"ticketportal/hooks"
	"ticketportal/settings"
	"ticketportal/store"
)

// Files on the conversation routes:
// /sendTicket, /replyOnTicket, /sendAnswerOnTicket and /addNoteOnTicket take
// JSON as before, or multipart/form-data with the same fields as form fields
// plus `files`. The form is read as a stream: each file goes to a temporary
// file on disk as it arrives (memory stays bounded whatever the upload),
// and the first file over the settings' limits ends the request with a 413
// naming it, before anything is stored.

// filesField is the form field of the files.
const filesField = "files"

// maxFieldsSize bounds the text fields of a form, like a JSON body.
const maxFieldsSize = maxBody

// upload is the files of one request, on disk until the request ends.
type upload struct {
	files    []*filesystem.File
	dir      string
	inMemory int64 // bytes of files held in memory
}

// cleanup removes the temporary files.
func (u *upload) cleanup() {
	if u != nil && u.dir != "" {
		_ = os.RemoveAll(u.dir)
	}
}

// readBody is readJSON for the routes that take files: a JSON body decodes
// as with readJSON (no files); a multipart/form-data body gives its text
// fields to the same strict decoder (unknown, repeated or ill-typed fields
// are refused alike) and its files, within the settings' limits. The caller
// must defer up.cleanup().
func readBody(e *core.RequestEvent, dst any) (up *upload, err error) {
	up = &upload{}
	mt, _, _ := mime.ParseMediaType(e.Request.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return up, readJSON(e, dst)
	}
	s := settings.Get(e.App)
	maxFile := int64(s.MaxAttachmentMB) << 20
	// the whole form: every file at its largest, the fields and the parts'
	// headers; beyond that the body is cut off.
	limit := int64(s.MaxAttachments)*(maxFile+16<<10) + maxFieldsSize + 64<<10
	// Read the connection itself: the router's rereadable wrapper would keep
	// a copy of the whole body (16 MiB of it in memory) that a form of
	// files never needs.
	body := e.Request.Body
	if rr, ok := body.(*router.RereadableReadCloser); ok {
		body = rr.ReadCloser
	}
	e.Request.Body = http.MaxBytesReader(e.Response, body, limit)
	mr, err := e.Request.MultipartReader()
	if err != nil {
		return up, e.BadRequestError("The multipart body could not be read.", nil)
	}
	defer func() {
		if err != nil {
			up.cleanup()
			up = &upload{}
		}
	}()
	fields := map[string]string{}
	fieldsSize := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return up, bodyReadError(e, err)
		}
		name := part.FormName()
		fileName, isFile := partFileName(part.Header.Get("Content-Disposition"))
		if name == filesField || isFile {
			if name != filesField {
				return up, unknownField(e, name)
			}
			if len(up.files) >= s.MaxAttachments {
				return up, hooks.FilesError(&store.FileLimitError{File: fileName, Message: fmt.Sprintf(
					"Too many files: %q is file %d, and a message takes at most %d.", fileName, len(up.files)+1, s.MaxAttachments)})
			}
			f, err := up.save(part, fileName, maxFile)
			if errors.Is(err, errTooLarge) {
				return up, hooks.FilesError(store.TooLarge(fileName, s.MaxAttachmentMB))
			}
			if errors.Is(err, errEmpty) {
				return up, fieldError(e, fmt.Sprintf("The file %q is empty.", fileName), filesField, "validation_empty_file", "A file must not be empty.")
			}
			if err != nil {
				return up, bodyReadError(e, err)
			}
			up.files = append(up.files, f)
			continue
		}
		if _, seen := fields[name]; seen {
			return up, e.BadRequestError("The request body repeats a field.", nil)
		}
		value, err := io.ReadAll(io.LimitReader(part, int64(maxFieldsSize-fieldsSize)+1))
		if err != nil {
			return up, bodyReadError(e, err)
		}
		fieldsSize += len(value)
		if fieldsSize > maxFieldsSize {
			return up, router.NewApiError(http.StatusRequestEntityTooLarge, "The form's fields are larger than 64 KiB.", nil)
		}
		if !utf8.Valid(value) {
			return up, e.BadRequestError("Field "+name+" is not valid UTF-8.", nil)
		}
		fields[name] = string(value)
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return up, e.BadRequestError("The form could not be read.", nil)
	}
	// the fields go through the very decoder of JSON bodies
	body, header := e.Request.Body, e.Request.Header.Get("Content-Type")
	e.Request.Body = io.NopCloser(bytes.NewReader(raw))
	e.Request.Header.Set("Content-Type", "application/json")
	err = readJSON(e, dst)
	e.Request.Body = body
	e.Request.Header.Set("Content-Type", header)
	return up, err
}

var (
	errTooLarge = errors.New("file too large")
	errEmpty    = errors.New("empty file")
)

// memBudget is how many bytes of a request's files are kept in memory;
// the rest of a file that does not fit goes to a temporary file.
const memBudget = 4 << 20

// save reads one file part of at most max bytes: in memory while the
// request's budget lasts, on disk beyond it.
func (u *upload) save(part io.Reader, name string, max int64) (*filesystem.File, error) {
	limit := max + 1
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, part, min(memBudget-u.inMemory, limit))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n >= limit {
		return nil, errTooLarge
	}
	if errors.Is(err, io.EOF) { // the whole file fits
		if n == 0 {
			return nil, errEmpty
		}
		u.inMemory += n
		f, err := filesystem.NewFileFromBytes(buf.Bytes(), diskName(name))
		if err != nil {
			return nil, err
		}
		f.OriginalName = name
		return f, nil
	}
	if u.dir == "" {
		dir, err := os.MkdirTemp("", "portal_upload_")
		if err != nil {
			return nil, err
		}
		u.dir = dir
	}
	sub := filepath.Join(u.dir, strconv.Itoa(len(u.files)))
	if err := os.Mkdir(sub, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(sub, diskName(name))
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = buf.WriteTo(out)
	if err == nil {
		var rest int64
		rest, err = io.Copy(out, io.LimitReader(part, limit-n))
		n += rest
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return nil, err
	case n > max:
		return nil, errTooLarge
	}
	f, err := filesystem.NewFileFromPath(path)
	if err != nil {
		return nil, err
	}
	f.OriginalName = name
	return f, nil
}

// diskName is a safe base name for a file on disk (the stored name is
// derived from it by PocketBase, the shown name is the one sent).
func diskName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' || r == ':' {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(name, "_"))
	for len(name) > 150 {
		_, size := utf8.DecodeRuneInString(name)
		name = name[size:]
	}
	name = strings.TrimLeft(name, ".")
	if name == "" {
		return "file"
	}
	return name
}

// partFileName reads the filename of a form part ("file" when a file part
// has none).
func partFileName(disposition string) (string, bool) {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return "", false
	}
	name, ok := params["filename"]
	if !ok {
		return "", false
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "file"
	}
	return name, true
}

func unknownField(e *core.RequestEvent, name string) error {
	if !echoable(name) {
		return e.BadRequestError("The request body has an unknown field.", nil)
	}
	return fieldError(e, "Unknown field "+name+".", name, "validation_unknown_field", "Unknown field.")
}

// bodyReadError answers a body that could not be read: 413 when it is
// over the form's limit, 400 otherwise.
func bodyReadError(e *core.RequestEvent, err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return router.NewApiError(http.StatusRequestEntityTooLarge, "The request body is larger than the settings allow (maxAttachments files of maxAttachmentMB).", nil)
	}
	return e.BadRequestError("The multipart body could not be read.", nil)
}

// fileToken is the caller's file token for the URLs of a response.
func fileToken(e *core.RequestEvent) string {
	return store.FileToken(e.Auth)
}
