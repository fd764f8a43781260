package webui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/push"
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

	private, _ := json.Marshal(messageRequest{Kind: "private", To: r.bob.ID.Fingerprint(), Text: "see me after class"})
	resp, err = c.Post(r.srv.origin+"/api/message", "application/json", bytes.NewReader(private))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("private: %s", resp.Status)
	}
	select {
	case m := <-r.bobMsgs:
		if m.Text != "see me after class" || !m.Private {
			t.Errorf("bob got %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bob never got the private message")
	}
	r.waitFor("the page to show the receipt", func() bool {
		msgs, _ := r.srv.msgs.since(0)
		for _, m := range msgs {
			if m.Text == "see me after class" && m.Status == "received" && m.ID != "" {
				return true
			}
		}
		return false
	})
}

// TestAcceptAfterTrust is the Inbox's accept: a push from a sender not
// trusted yet is refused and listed with the offer to trust; trusting
// through the page while the sender still waits lets the push in.
func TestAcceptAfterTrust(t *testing.T) {
	r := newRoom(t, Config{})
	c := r.client()
	handout := filepath.Join(t.TempDir(), "handout.txt")
	writeTree(t, filepath.Dir(handout), map[string]string{"handout.txt": "from bob"})
	src, err := push.NewSource([]string{handout})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	alice, ok := r.bobPres.Lookup(r.alice.ID.SignPub)
	if !ok {
		t.Fatal("bob does not see alice")
	}
	result := make(chan error, 1)
	go func() {
		rep, err := push.Send(r.ctx, push.SendConfig{Node: r.bob, Source: src, Wait: 30 * time.Second,
			Recipients: []identity.Peer{{Name: alice.Name, SignPub: alice.SignPub, BoxPub: alice.BoxPub, Fingerprint: alice.Fingerprint}}})
		if err == nil && !rep.OK() {
			err = fmt.Errorf("push not complete: %+v", rep.Receivers)
		}
		result <- err
	}()
	r.waitFor("the refused offer with a trust button", func() bool {
		for _, it := range r.srv.inbox.view() {
			if it.Status == "refused" && it.TrustSender && it.Sender == r.bob.ID.Fingerprint() {
				return true
			}
		}
		return false
	})
	body, _ := json.Marshal(trustRequest{Fingerprint: r.bob.ID.Fingerprint(), Trusted: true})
	resp, err := c.Post(r.srv.origin+"/api/trust", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("trust: %s", resp.Status)
	}
	if err := <-result; err != nil {
		t.Fatalf("bob's push after alice trusted him: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(r.srv.cfg.Dir, "handout.txt"))
	if err != nil || string(got) != "from bob" {
		t.Fatalf("alice's copy: %q, %v", got, err)
	}
	r.waitFor("the inbox to say complete", func() bool {
		for _, it := range r.srv.inbox.view() {
			if it.Status == "complete" && it.Verified && len(it.Paths) == 1 && it.Paths[0] == "handout.txt" {
				return true
			}
		}
		return false
	})
}
