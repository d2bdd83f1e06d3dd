package routes_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/settings"
	"ticketportal/testapp"
)

// upFile is one file of a multipart request.
type upFile struct {
	name string
	data []byte
}

// formBody builds a multipart/form-data body: the fields in order, then
// the files under "files". It returns the body and its Content-Type.
func formBody(t testing.TB, fields [][2]string, files ...upFile) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile("files", f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String(), w.FormDataContentType()
}

// pngBytes is a real 16x16 PNG (so that thumbnails can be made).
func pngBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := 0; x < 16; x++ {
		for y := 0; y < 16; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 16), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	htmlFile = []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>")
	svgFile  = []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`)
	pdfFile  = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	logFile  = []byte("2026-12-01 10:00:00 ERROR the app crashed\n")
)

// filesAsCallers is asCallers for a multipart body.
func filesAsCallers(t *testing.T, name, method, url, body, contentType string, before func(testing.TB, *tests.TestApp), wants map[string]callerWant) {
	t.Helper()
	for _, kind := range testapp.Callers {
		if _, ok := wants[kind]; !ok {
			t.Errorf("%s: no expectation for caller %q", name, kind)
		}
	}
	for _, kind := range callerKinds {
		w, ok := wants[kind]
		if !ok {
			continue
		}
		headers := map[string]string{"Content-Type": contentType}
		for k, v := range testapp.Headers(t, kind) {
			headers[k] = v
		}
		acctRun(t, kind+" "+name, method, url, body, headers, before, w)
	}
}

// setLimits changes the settings' file limits of a test app.
func setLimits(maxFiles, maxMB int) func(testing.TB, *tests.TestApp) {
	return func(t testing.TB, app *tests.TestApp) {
		t.Helper()
		r, err := app.FindFirstRecordByFilter("portalSettings", "id != ''")
		if err != nil {
			t.Fatal(err)
		}
		r.Set("maxAttachments", maxFiles)
		r.Set("maxAttachmentMB", maxMB)
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
		settings.Invalidate(app)
	}
}

// storedFileCount counts the files (not thumbnails) stored for a collection.
func storedFileCount(t testing.TB, app core.App, collection string) int {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(collection)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	root := filepath.Join(app.DataDir(), "storage", c.Id)
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".attrs") && !strings.Contains(p, "thumbs_") {
			n++
		}
		return nil
	})
	return n
}

// filesOf checks how many files the collection stores after the request.
func filesStored(collection string, want int) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		if n := storedFileCount(t, app, collection); n != want {
			t.Errorf("%d files stored for %s, want %d", n, collection, want)
		}
	}
}

// ticketAnswer is a decoded ticket answer of the routes.
type ticketAnswer struct {
	Message string `json:"message"`
	Data    struct {
		Id          string       `json:"id"`
		Attachments []attachment `json:"attachments"`
		Messages    []struct {
			Id          string       `json:"id"`
			Kind        string       `json:"kind"`
			Attachments []attachment `json:"attachments"`
		} `json:"messages"`
	} `json:"data"`
}

type attachment struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	Type     string `json:"type"`
	URL      string `json:"url"`
	ThumbURL string `json:"thumbUrl"`
}

func decodeTicket(t testing.TB, raw []byte) ticketAnswer {
	t.Helper()
	var a ticketAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("not a ticket answer: %v\n%s", err, raw)
	}
	return a
}

// lastFiles is the attachments of the last message of a ticket answer.
func (a ticketAnswer) lastFiles(t testing.TB) []attachment {
	t.Helper()
	if len(a.Data.Messages) == 0 {
		t.Fatalf("the ticket has no messages")
	}
	return a.Data.Messages[len(a.Data.Messages)-1].Attachments
}

// send sends a request with a body of a content type to a served app.
func send(t testing.TB, method, url, token, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// download GETs a file URL of a served app.
func download(t testing.TB, url string) (int, http.Header, []byte) {
	t.Helper()
	res, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, raw
}

// fileToken gets a caller's file token the PocketBase way.
func fileTokenOf(t testing.TB, base, kind string) string {
	t.Helper()
	status, raw := call(t, "POST", base+"/api/files/token", testapp.Token(t, kind), "")
	if status != 200 {
		t.Fatalf("file token of %s: %d %s", kind, status, raw)
	}
	var out struct{ Token string }
	_ = json.Unmarshal(raw, &out)
	return out.Token
}

// withoutToken cuts the query off a file URL.
func withoutToken(u string) string {
	p, _, _ := strings.Cut(u, "?")
	return p
}

// mailAttachments decodes the attachments of a raw mail by file name.
func mailAttachments(t testing.TB, raw string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(ct, enc, disp string, body io.Reader)
	walk = func(ct, enc, disp string, body io.Reader) {
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if errors.Is(err, io.EOF) || err != nil {
					return
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p)
			}
		}
		d, dp, err := mime.ParseMediaType(disp)
		if err != nil || d != "attachment" {
			return
		}
		data, _ := io.ReadAll(body)
		if strings.EqualFold(enc, "base64") {
			data, _ = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(data)))
		}
		out[dp["filename"]] = data
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Header.Get("Content-Disposition"), msg.Body)
	return out
}
