package routes

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// FuzzReadJSON fuzzes the strict body decoding every custom route uses:
// whatever the body and content type, readJSON either fills the struct or
// refuses with 400, 413 or 415, and never panics. An accepted body holds
// no NUL character.
func FuzzReadJSON(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"name":"x","count":1,"ok":true,"note":"y","tags":["a"]}`},
		{"application/json", `{"name":"a\u0000b"}`},
		{"application/json", `{"name":1}`},
		{"application/json", `{"other":1}`},
		{"application/json", `{"name":"a","name":"b"}`},
		{"application/json", `[]`},
		{"application/json", `null`},
		{"application/json", "{\"name\":\"\xff\"}"},
		{"application/json", `{"name":"\ud800"}`},
		{"application/json", ``},
		{"application/json; charset=utf-16", `{}`},
		{"text/plain", `{}`},
		{"", `{"count":1e400}`},
		{"application/merge-patch+json", `{"tags":null}`},
	} {
		f.Add(seed.ct, seed.body)
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		e := &core.RequestEvent{}
		e.Request, e.Response = req, httptest.NewRecorder()
		var dst struct {
			Name  string   `json:"name"`
			Count int      `json:"count"`
			OK    bool     `json:"ok"`
			Note  *string  `json:"note"`
			Tags  []string `json:"tags"`
		}
		err := readJSON(e, &dst)
		if err == nil {
			if strings.ContainsRune(dst.Name, 0) || (dst.Note != nil && strings.ContainsRune(*dst.Note, 0)) {
				t.Fatalf("a NUL character got through: %q", body)
			}
			for _, tag := range dst.Tags {
				if strings.ContainsRune(tag, 0) {
					t.Fatalf("a NUL character got through: %q", body)
				}
			}
			return
		}
		var apiErr *router.ApiError
		if !errors.As(err, &apiErr) {
			t.Fatalf("not an API error: %T %v", err, err)
		}
		switch apiErr.Status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("status %d for %q (%q)", apiErr.Status, body, contentType)
		}
	})
}
