package webui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-lan/herald/message"
)

// TestSendAndChatThroughAPI drives the page's API without a browser: a
// folder uploaded for bob arrives intact, the push's table says bob
// completed, and a chat line reaches bob's message engine.
func TestSendAndChatThroughAPI(t *testing.T) {
	r := newRoom(t, Config{})
	c := r.client()
	files := [][2]string{{"lesson/notes.txt", "read chapter 3"}, {"lesson/data/table.csv", "a,b\n1,2\n"}}
	body, ctype := uploadBody(t, sendOptions{To: []string{r.bob.ID.Fingerprint()}}, files)
	if status, out := postUpload(t, c, r, body, ctype); status != http.StatusOK {
		t.Fatalf("upload: %d %v", status, out)
	}
	select {
	case <-r.received:
	case <-r.ctx.Done():
		t.Fatal("bob never completed the push")
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(r.bobDir, filepath.FromSlash(f[0])))
		if err != nil || string(got) != f[1] {
			t.Errorf("%s at bob: %q, %v", f[0], got, err)
		}
	}
	r.waitFor("the push's table to show bob complete", func() bool {
		jobs := r.srv.jobs.view()
		return len(jobs) == 1 && jobs[0].Status == "done" && len(jobs[0].Receivers) == 1 && jobs[0].Receivers[0].Status == "complete"
	})
	left, _ := os.ReadDir(r.srv.cfg.TempDir)
	if len(left) != 0 {
		t.Errorf("upload not removed after the push: %d entries", len(left))
	}

	chat, _ := json.Marshal(messageRequest{Kind: "chat", Channel: "open", Text: "hello from the page"})
	resp, err := c.Post(r.srv.origin+"/api/message", "application/json", bytes.NewReader(chat))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("chat: %s", resp.Status)
	}
	select {
	case m := <-r.bobMsgs:
		if m.Text != "hello from the page" || m.Kind != message.KindChat || m.Fingerprint != r.alice.ID.Fingerprint() {
			t.Errorf("bob got %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bob never got the chat line")
	}
}
