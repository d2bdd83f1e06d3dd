package hooks

import (
	"errors"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"ticketportal/policy"
	"ticketportal/settings"
	"ticketportal/store"
)

// Files: the file fields of tickets and messages
// are protected, so PocketBase serves a file only with a file token of an
// account that the record's view rule lets see the record. These hooks add
// what the field cannot do alone:
//   - every save describes its files in attachmentsMeta (name, size, type
//     from the bytes), whatever writes it;
//   - the record API (and batch) applies the settings' maxAttachments and
//     maxAttachmentMB before anything is stored (413 naming the file), and
//     only operators change the files of a ticket once it is sent;
//   - every ticket and message the record API or realtime answers shows its
//     files as [{name, size, type, url}] (url with the caller's file token,
//     except in realtime, where one message serves many subscribers);
//   - downloads are served safely (fileHeaders).

// FilesCSP is the Content-Security-Policy of a served file: nothing in it
// runs or loads anything.
const FilesCSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"

func bindFiles(app core.App) {
	for _, c := range []string{policy.Tickets, policy.Messages} {
		meta := func(e *core.RecordEvent) error {
			if err := store.WriteFilesMeta(e.Record); err != nil {
				return err
			}
			return e.Next()
		}
		app.OnRecordCreate(c).BindFunc(meta)
		app.OnRecordUpdate(c).BindFunc(meta)

		app.OnRecordCreateRequest(c).BindFunc(func(e *core.RecordRequestEvent) error {
			if err := checkRequestFiles(e, 0); err != nil {
				return err
			}
			return e.Next()
		})
		app.OnRecordUpdateRequest(c).BindFunc(func(e *core.RecordRequestEvent) error {
			orig := store.StoredFiles(e.Record.Original())
			if !e.HasSuperuserAuth() && (!slices.Equal(orig, store.StoredFiles(e.Record)) || len(e.Record.GetUnsavedFiles(store.FilesField)) > 0) {
				return e.ForbiddenError("The files of a sent ticket or message cannot be changed.", nil)
			}
			kept := len(store.StoredFiles(e.Record))
			if err := checkRequestFiles(e, kept); err != nil {
				return err
			}
			return e.Next()
		})
	}

	app.OnRecordEnrich(policy.Tickets).BindFunc(func(e *core.RecordEnrichEvent) error {
		store.ShapeFiles(enrichToken(e), e.Record)
		return e.Next()
	})
	app.OnRecordEnrich(policy.Messages).BindFunc(func(e *core.RecordEnrichEvent) error {
		store.ShapeMessageFiles(enrichToken(e), e.Record)
		return e.Next()
	})

	app.OnFileDownloadRequest(policy.Tickets, policy.Messages).BindFunc(func(e *core.FileDownloadRequestEvent) error {
		fileHeaders(e)
		return e.Next()
	})

	// The record API's own body limit follows the file field's bounds (100
	// files of 1 GiB); a create or update of a ticket or message is cut at
	// what the settings allow (every file at its largest) before PocketBase
	// buffers it.
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			if limit := recordAPIBodyLimit(e); limit > 0 {
				return apis.BodyLimit(limit).Func(e)
			}
			return e.Next()
		})
		return se.Next()
	})
}

// recordAPIBodyLimit is the body limit of a record API create or update of
// tickets or messages, 0 for any other request.
func recordAPIBodyLimit(e *core.RequestEvent) int64 {
	if e.Request.Method != http.MethodPost && e.Request.Method != http.MethodPatch {
		return 0
	}
	rest, ok := strings.CutPrefix(e.Request.URL.Path, "/api/collections/")
	if !ok {
		return 0
	}
	name, rest, _ := strings.Cut(rest, "/")
	if rest != "records" && !strings.HasPrefix(rest, "records/") {
		return 0
	}
	c, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil || (c.Name != policy.Tickets && c.Name != policy.Messages) {
		return 0
	}
	s := settings.Get(e.App)
	return int64(s.MaxAttachments)*(int64(s.MaxAttachmentMB)<<20+16<<10) + 1<<20
}

// checkRequestFiles applies the settings' limits to the files of a record
// API request (existing = the files the record keeps).
func checkRequestFiles(e *core.RecordRequestEvent, existing int) error {
	files := e.Record.GetUnsavedFiles(store.FilesField)
	if len(files) == 0 {
		return nil
	}
	return FilesError(store.CheckFiles(e.App, existing, files))
}

// FilesError turns a *store.FileLimitError into the 413 answer naming the
// file (other errors pass through).
func FilesError(err error) error {
	var limit *store.FileLimitError
	if errors.As(err, &limit) {
		return router.NewApiError(http.StatusRequestEntityTooLarge, limit.Message, map[string]any{"file": limit.File})
	}
	return err
}

// enrichToken is the file token of the requester of an enrich, "" in
// realtime (a realtime message is built once for many subscribers, so it
// carries no one's token: the client appends its own, from POST
// /api/files/token) and for guests.
func enrichToken(e *core.RecordEnrichEvent) string {
	if e.RequestInfo == nil || e.RequestInfo.Context == core.RequestInfoContextRealtime {
		return ""
	}
	return store.FileToken(e.RequestInfo.Auth)
}

// fileHeaders makes a download safe to open: PNG, JPEG, GIF and WebP (by
// their bytes) show inline, everything else (HTML, SVG and scripts above
// all) is an attachment; the type sent is the one read from the bytes,
// never the name's; nosniff and a sandboxing CSP always.
func fileHeaders(e *core.FileDownloadRequestEvent) {
	name := e.Request.PathValue("filename")
	meta, ok := store.FilesMeta(e.Record)[name]
	if !ok {
		meta = store.FileMeta{Name: name, Type: "application/octet-stream"}
	}
	typ := store.BaseType(meta.Type)
	h := e.Response.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", FilesCSP)
	h.Set("Cache-Control", "private, no-store")
	disposition := "attachment"
	if store.InlineTypes[typ] && e.Request.URL.Query().Get("download") == "" {
		disposition = "inline"
	}
	if e.ServedName == name { // a thumbnail keeps the type PocketBase gives it
		h.Set("Content-Type", meta.Type)
	}
	cd := mime.FormatMediaType(disposition, map[string]string{"filename": meta.Name})
	if cd == "" {
		cd = disposition
	}
	h.Set("Content-Disposition", cd)
}
