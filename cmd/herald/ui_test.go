package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"

	"github.com/herald-lan/herald/multicast"
)

// TestUICommand runs `herald ui` on the memory network: it prints a
// one-time loopback URL that opens the page, refuses it a second time,
// and stops cleanly (exit 0) on Ctrl-C.
func TestUICommand(t *testing.T) {
	net := multicast.NewMemNet(1)
	home, dir := t.TempDir(), t.TempDir()
	ui := startCLI(t, net.Host(multicast.Link{}), nil, "--home", home, "--name", "teacher", "ui", "--no-open", "--dir", dir)
	out := ui.waitOutput(t, "token=")
	url := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/\?token=[A-Za-z0-9_-]+`).FindString(out)
	if url == "" || !strings.Contains(out, "teacher") {
		t.Fatalf("no one-time loopback URL in:\n%s", out)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	for i, want := range []int{http.StatusOK, http.StatusForbidden} {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("use %d of the URL: %d, want %d", i+1, resp.StatusCode, want)
		}
		if i == 0 && !strings.Contains(string(body), `<script type="module" src="app.js">`) {
			t.Errorf("the page did not load: %.200s", body)
		}
	}
	if code := ui.stop(); code != 0 {
		t.Errorf("exit %d after Ctrl-C; stderr:\n%s", code, ui.stderr.String())
	}
}

// TestUICommandRefusesBadDir: a receive folder that does not exist is a
// usage error, before anything listens.
func TestUICommandRefusesBadDir(t *testing.T) {
	res := cliRun{args: []string{"--home", t.TempDir(), "ui", "--no-open", "--dir", "/nonexistent/herald-ui"}, network: multicast.NewMemNet(1).Host(multicast.Link{})}.exec(t)
	if res.code != exitUsage || !strings.Contains(res.stderr, "/nonexistent/herald-ui") {
		t.Errorf("exit %d, stderr %q; want usage error naming the folder", res.code, res.stderr)
	}
}
