package crashtest

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := hardeningClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// The binary carries its pages: started from an empty working directory
// (as a service manager or a copied binary runs it) it serves the portal,
// the agent room and the account pages.
func TestBinaryServesItsPagesFromAnEmptyWorkingDirectory(t *testing.T) {
	wd := t.TempDir()
	dir := filepath.Join(t.TempDir(), "pb_data")
	cli(t, dir, "migrate", "up")
	s := startWith(t, dir, wd, nil)
	index, _ := os.ReadFile(filepath.Join("..", "..", "pb_public", "index.html"))
	agent, _ := os.ReadFile(filepath.Join("..", "..", "pb_public", "agent", "index.html"))
	for path, want := range map[string]string{
		"/":          string(index),
		"/agent/":    string(agent),
		"/style.css": "",
	} {
		status, body := get(t, s.url+path)
		if status != http.StatusOK || (want != "" && body != want) || body == "" {
			t.Errorf("GET %s from an empty working directory: %d, %d bytes (want the file in pb_public)", path, status, len(body))
		}
	}
	// the account pages (a link from a mail) render from the binary too
	for _, path := range []string{"/resetPassword?token=x", "/confirmEmailChange?token=x"} {
		status, body := get(t, s.url+path)
		if status != http.StatusBadRequest || !strings.Contains(body, "This link does not work") {
			t.Errorf("GET %s: %d %q", path, status, body)
		}
	}
	if entries, _ := os.ReadDir(wd); len(entries) != 0 {
		t.Errorf("the server wrote into its working directory: %v", entries)
	}
}

// --publicDir serves another folder instead of the built-in pages.
func TestPublicDirFlagOverridesTheBuiltInPages(t *testing.T) {
	public := t.TempDir()
	if err := os.WriteFile(filepath.Join(public, "index.html"), []byte("<p>MY-OWN-PAGES</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pb_data")
	cli(t, dir, "migrate", "up")
	s := startWith(t, dir, t.TempDir(), []string{"--publicDir=" + public})
	if status, body := get(t, s.url+"/"); status != 200 || body != "<p>MY-OWN-PAGES</p>" {
		t.Fatalf("GET / with --publicDir: %d %q", status, body)
	}
	if status, _ := get(t, s.url+"/agent/"); status != http.StatusNotFound {
		t.Fatalf("GET /agent/ with --publicDir (no agent/ there): %d, want 404", status)
	}
}
