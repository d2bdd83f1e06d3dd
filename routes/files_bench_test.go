package routes_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ticketportal/testapp"
)

// BenchmarkFiles prints the figures of files beside PocketBase's own way of
// storing a file, in the same run (a real HTTP server on loopback):
//
//		go test ./routes -run '^$' -bench Files -benchtime 1x
//
//	  - throughput of replies carrying one 1 MiB file: /replyOnTicket
//	    (multipart) vs a record create of a message with the file through the
//	    record API, sequential, interleaved;
//	  - the process's resident memory (RSS, sampled every 2 ms) while 20
//	    clients upload 10 MiB each at once, through /replyOnTicket and through
//	    the record API. The request bodies are generated as they are sent, so
//	    the figures are the server's.
func BenchmarkFiles(b *testing.B) {
	app := testapp.New(b)
	app.Settings().RateLimits.Enabled = false
	url := testapp.Serve(b, app)
	bob := testapp.Token(b, testapp.OtherCustomer)
	mib := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)

	customBody, customCT := formBody(b, [][2]string{{"reply", "A 1 MiB file."}}, upFile{"one.bin", mib})
	apiBody, apiCT := formAs(b, "attachments", [][2]string{{"ticket", testapp.OtherTicketId}, {"kind", "reply"},
		{"body", "A 1 MiB file."}, {"authorId", testapp.OtherCustomerId}}, upFile{"one.bin", mib})
	for range b.N {
		sideBySide(b, "reply with a 1 MiB file", 100,
			side{"custom /replyOnTicket", func(int) (int, []byte) {
				return send(b, "POST", url+"/replyOnTicket/"+testapp.OtherTicketId, bob, customCT, customBody)
			}},
			side{"record create", func(int) (int, []byte) {
				return send(b, "POST", url+"/api/collections/messages/records", bob, apiCT, apiBody)
			}})

		for _, run := range []struct{ name, path, field string }{
			{"custom /replyOnTicket", "/replyOnTicket/" + testapp.OtherTicketId, "files"},
			{"record create", "/api/collections/messages/records", "attachments"},
			{"custom /replyOnTicket (again)", "/replyOnTicket/" + testapp.OtherTicketId, "files"},
		} {
			base, peak, took := burst(b, url+run.path, bob, run.field, 20, 10<<20)
			b.Logf("20 concurrent 10 MiB uploads, %-30s RSS before %4d MiB, peak %4d MiB (+%d MiB), %s",
				run.name, base>>20, peak>>20, (peak-base)>>20, took.Round(time.Millisecond))
		}
	}
}

// burst sends n uploads of size bytes at once and returns the RSS before
// and at its highest during them.
func burst(b *testing.B, url, token, field string, n int, size int) (base, peak int64, took time.Duration) {
	b.Helper()
	debug.FreeOSMemory()
	base = rss(b)
	peak = base
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if r := rss(b); r > peak {
				peak = r
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := streamUpload(url, token, field, fmt.Sprintf("big%d.bin", i), size); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	took = time.Since(t0)
	close(stop)
	<-sampled
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return base, peak, took
}

// streamUpload sends one reply with a file of size bytes generated while
// it is sent.
func streamUpload(url, token, field, name string, size int) error {
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		fields := map[string]string{"reply": "A big file."}
		if field == "attachments" {
			fields = map[string]string{"ticket": testapp.OtherTicketId, "kind": "reply", "body": "A big file.", "authorId": testapp.OtherCustomerId}
		}
		for k, v := range fields {
			_ = w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile(field, name)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := fw.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(w.Close())
	}()
	req, err := http.NewRequest("POST", url, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Timeout: 120 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s: %d %s", url, res.StatusCode, body)
	}
	return nil
}

// rss is the process's resident memory in bytes (Linux).
func rss(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
