package hooks

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/store"
)

// MailFilesBudget is how many bytes of an answer's files its mail carries
// as attachments: the files are taken in order
// while they fit; the others are listed in the mail with a link to the
// portal, where the customer downloads them.
const MailFilesBudget = 10 << 20

// mailFileLink is a file the mail lists instead of carrying it.
type mailFileLink struct {
	Name string
	Size string
}

// answerMailFiles reads an answer's files for its mail (once the answer is
// stored, inside its transaction): the attachments by name and the files
// left out. A file that cannot be read is listed rather than failing the
// answer.
func answerMailFiles(app core.App, answer *core.Record) (map[string]io.Reader, []mailFileLink) {
	names := store.StoredFiles(answer)
	if len(names) == 0 {
		return nil, nil
	}
	meta := store.FilesMeta(answer)
	attachments := map[string]io.Reader{}
	var links []mailFileLink
	fsys, err := app.NewFilesystem()
	if err != nil {
		app.Logger().Error("answer mail: opening the file storage failed", "error", err)
	} else {
		defer fsys.Close()
	}
	var total int64
	for _, name := range names {
		m := meta[name]
		if m.Name == "" {
			m.Name = name
		}
		if fsys == nil || total+m.Size > MailFilesBudget {
			links = append(links, mailFileLink{Name: m.Name, Size: HumanSize(m.Size)})
			continue
		}
		data, err := readStored(fsys.GetReader, answer.BaseFilesPath()+"/"+name, m.Size)
		if err != nil {
			app.Logger().Warn("answer mail: a file could not be read; the mail links it", "file", name, "error", err)
			links = append(links, mailFileLink{Name: m.Name, Size: HumanSize(m.Size)})
			continue
		}
		total += int64(len(data))
		attachments[uniqueName(attachments, m.Name)] = bytes.NewReader(data)
	}
	return attachments, links
}

// readStored reads one stored file of at most max bytes.
func readStored[R io.ReadCloser](open func(string) (R, error), key string, max int64) ([]byte, error) {
	r, err := open(key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than its recorded size", key)
	}
	return data, nil
}

// uniqueName keeps two files of the same name apart in one mail.
func uniqueName(taken map[string]io.Reader, name string) string {
	if _, ok := taken[name]; !ok {
		return name
	}
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 2; ; i++ {
		n := fmt.Sprintf("%s (%d)%s", base, i, ext)
		if _, ok := taken[n]; !ok {
			return n
		}
	}
}

// HumanSize writes a size for people: 812 B, 3.4 KiB, 12.0 MiB.
func HumanSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}
