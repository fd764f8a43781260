package webui

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// uploadBody builds the multipart body the page sends: options first,
// then each file under its relative path.
func uploadBody(t testing.TB, opts sendOptions, files [][2]string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	o, _ := json.Marshal(opts)
	mw.WriteField("options", string(o))
	for _, f := range files {
		h := textproto.MIMEHeader{}
		// Written by hand: CreateFormFile would escape nothing, but we
		// want exactly the name a hostile page could send.
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+f[0]+`"`)
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f[1])
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func postUpload(t testing.TB, c *http.Client, r *room, body io.Reader, ctype string) (int, map[string]string) {
	t.Helper()
	resp, err := c.Post(r.srv.origin+"/api/send", ctype, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]string{}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestUploadRefused(t *testing.T) {
	r := newRoom(t, Config{MaxUpload: 1000})
	c := r.client()
	to := sendOptions{To: []string{r.bob.ID.Fingerprint()}}
	cases := []struct {
		name  string
		files [][2]string
		want  int
	}{
		{"oversized file", [][2]string{{"big.bin", strings.Repeat("x", 1001)}}, http.StatusRequestEntityTooLarge},
		{"oversized in total", [][2]string{{"a", strings.Repeat("x", 600)}, {"b", strings.Repeat("x", 600)}}, http.StatusRequestEntityTooLarge},
		{"parent path", [][2]string{{"../escape.txt", "x"}}, http.StatusBadRequest},
		{"inner parent path", [][2]string{{"lesson/../../escape.txt", "x"}}, http.StatusBadRequest},
		{"absolute path", [][2]string{{"/etc/passwd", "x"}}, http.StatusBadRequest},
		{"backslash path", [][2]string{{`..\escape.txt`, "x"}}, http.StatusBadRequest},
		{"staging name", [][2]string{{".herald-x/a", "x"}}, http.StatusBadRequest},
		{"same file twice", [][2]string{{"a", "x"}, {"a", "y"}}, http.StatusBadRequest},
		{"no files", nil, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, ctype := uploadBody(t, to, tc.files)
			status, out := postUpload(t, c, r, body, ctype)
			if status != tc.want {
				t.Errorf("got %d (%s), want %d", status, out["error"], tc.want)
			}
			left, _ := os.ReadDir(r.srv.cfg.TempDir)
			if len(left) != 0 {
				t.Errorf("refused upload left %d entries in the temp folder", len(left))
			}
		})
	}
	t.Run("declared length over the limit", func(t *testing.T) {
		req, _ := http.NewRequest("POST", r.srv.origin+"/api/send", strings.NewReader("x"))
		req.ContentLength = 1000 + multipartOverhead + 1
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("got %s, want 413", resp.Status)
			}
		} // an error is fine too: the server answered before reading the body
	})
	t.Run("options after files", func(t *testing.T) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("file", "a.txt")
		io.WriteString(fw, "x")
		mw.WriteField("options", "{}")
		mw.Close()
		if status, _ := postUpload(t, c, r, &b, mw.FormDataContentType()); status != http.StatusBadRequest {
			t.Errorf("got %d, want 400", status)
		}
	})
}

func TestDownloadOnlyInsideReceiveFolder(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"secret.txt": "not for the page"})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"lesson/a.txt": "hello", "top.txt": "top"})
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	r := newRoom(t, Config{Dir: dir})
	c := r.client()
	get := func(p string) (int, string, http.Header) {
		resp, err := c.Get(r.srv.origin + "/api/file?path=" + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	status, body, h := get("lesson/a.txt")
	if status != 200 || body != "hello" {
		t.Fatalf("file inside: %d %q", status, body)
	}
	if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || h.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("a received file must download, never render: %v", h)
	}
	if status, body, _ := get("lesson"); status != 200 || !strings.Contains(body, "lesson/a.txt") {
		t.Errorf("folder listing: %d %q", status, body)
	}
	if _, body, _ := get("."); strings.Contains(body, "link") {
		t.Errorf("listing shows symbolic links: %s", body)
	}
	for _, p := range []string{"../" + filepath.Base(outside) + "/secret.txt", "%2e%2e/x", "/etc/passwd", outside + "/secret.txt",
		"lesson/../../x", "link.txt", "linkdir/secret.txt", "linkdir", ""} {
		status, body, _ := get(p)
		if status == 200 || strings.Contains(body, "not for the page") {
			t.Errorf("path %q: %d %q, want refused", p, status, body)
		}
	}
}

func TestEventsCoalesced(t *testing.T) {
	r := newRoom(t, Config{})
	c := r.client()
	resp, err := c.Get(r.srv.origin + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	stop := make(chan struct{})
	go func() { // a storm of changes: far more than the page may get
		for {
			select {
			case <-stop:
				return
			default:
				r.srv.hub.touch(sectionSends)
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	defer close(stop)
	lines := make(chan string)
	go func() {
		buf := make([]byte, 1<<20)
		var acc []byte
		for {
			n, err := resp.Body.Read(buf)
			acc = append(acc, buf[:n]...)
			for {
				i := bytes.Index(acc, []byte("\n\n"))
				if i < 0 {
					break
				}
				lines <- string(acc[:i])
				acc = acc[i+2:]
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	first := <-lines
	if !strings.Contains(first, `"me"`) || !strings.Contains(first, `"channels"`) {
		t.Fatalf("first update lacks the page's state: %.200s", first)
	}
	window := time.After(2 * time.Second)
	count := 0
	for done := false; !done; {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "data: ") {
				count++
			}
		case <-window:
			done = true
		}
	}
	// Coalescing: at most one update per updateEvery, plus one for the
	// edges of the window.
	if max := 2*MaxUpdatesPerSecond + 1; count > max || count < 2 {
		t.Errorf("%d updates in 2 s of constant change, want 2..%d", count, max)
	}
}
