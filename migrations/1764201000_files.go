package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Files: a protected file field `attachments` on
// messages and on tickets (the files sent with a ticket's first text), so
// that the collections' view rules decide who may download a file exactly
// as they decide who sees its message, and a JSON field `attachmentsMeta`
// (name, size and type of each stored file, written by a record hook from
// the bytes) so that listing a ticket's files reads no storage.
//
// The field's own bounds are the widest the settings allow (100 files of
// 1 GiB); the settings' maxAttachments and maxAttachmentMB are checked by
// the routes and the record API's request hooks (hooks/files.go), which
// answer 413 naming the file.

const (
	filesMaxSelect = 100
	filesMaxSize   = 1024 << 20
)

func init() {
	m.Register(func(app core.App) error {
		for _, name := range []string{"messages", "tickets"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			c.Fields.Add(
				&core.FileField{Name: "attachments", MaxSelect: filesMaxSelect, MaxSize: filesMaxSize,
					Protected: true, Thumbs: []string{"100x100", "480x0"},
					Help: "downloads need a file token; the view rule decides who may have a file"},
				&core.JSONField{Name: "attachmentsMeta", MaxSize: 200000, Hidden: true,
					Help: "written by the server: {storedName: {name, size, type}}"},
			)
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	}, func(app core.App) error {
		for _, name := range []string{"messages", "tickets"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			c.Fields.RemoveByName("attachments")
			c.Fields.RemoveByName("attachmentsMeta")
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	})
}
