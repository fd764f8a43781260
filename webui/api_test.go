package webui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/node"
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
		t.Errorf("upload not removed after the push: %d entries (%s)", len(left), left[0].Name())
	}

	if status := postJSON(t, c, r.srv.origin+"/api/message", messageRequest{Kind: "chat", Channel: "open", Text: "hello from the page"}); status != http.StatusAccepted {
		t.Fatalf("chat: %d", status)
	}
	select {
	case m := <-r.bobMsgs:
		if m.Text != "hello from the page" || m.Kind != message.KindChat || m.Fingerprint != r.alice.ID.Fingerprint() {
			t.Errorf("bob got %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bob never got the chat line")
	}

	if status := postJSON(t, c, r.srv.origin+"/api/message", messageRequest{Kind: "private", To: r.bob.ID.Fingerprint(), Text: "see me after class"}); status != http.StatusAccepted {
		t.Fatalf("private: %d", status)
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
// through the page while the push still runs (for carol, who trusts bob)
// lets alice join it and complete. (A sender whose every receiver
// refused gives up after a second, so alone alice could not be won back.)
func TestAcceptAfterTrust(t *testing.T) {
	r := newRoom(t, Config{})
	c := r.client()
	carolDone := make(chan push.Event, 1)
	carol, _ := r.addReceiver("carol", carolDone)
	r.waitFor("carol to trust bob", func() bool {
		_, err := carol.Trust.Trust(r.bob.ID.Fingerprint())
		return err == nil
	})
	handout := filepath.Join(t.TempDir(), "handout.bin")
	data := bytes.Repeat([]byte("handout "), 1<<19) // 4 MiB: about 2 s at the rate below
	writeTree(t, filepath.Dir(handout), map[string]string{"handout.bin": string(data)})
	src, err := push.NewSource([]string{handout})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var to []identity.Peer
	for _, n := range []*node.Node{r.alice, carol} {
		p, ok := r.bobPres.Lookup(n.ID.SignPub)
		if !ok {
			t.Fatalf("bob does not see %s", n.ID.Name)
		}
		to = append(to, identity.Peer{Name: p.Name, SignPub: p.SignPub, BoxPub: p.BoxPub, Fingerprint: p.Fingerprint})
	}
	result := make(chan *push.Report, 1)
	go func() {
		rep, err := push.Send(r.ctx, push.SendConfig{Node: r.bob, Source: src, Wait: 10 * time.Second, Rate: 16e6, Recipients: to})
		if err != nil {
			t.Errorf("bob's push: %v", err)
		}
		result <- rep
	}()
	r.waitFor("the refused offer with a trust button", func() bool {
		for _, it := range r.srv.inbox.view() {
			if it.Status == "refused" && it.TrustSender && it.Sender == r.bob.ID.Fingerprint() {
				return true
			}
		}
		return false
	})
	if status := postJSON(t, c, r.srv.origin+"/api/trust", trustRequest{Fingerprint: r.bob.ID.Fingerprint(), Trusted: true}); status != http.StatusOK {
		t.Fatalf("trust: %d", status)
	}
	if rep := <-result; rep == nil || !rep.OK() || rep.Completed != 2 {
		t.Fatalf("bob's push after alice trusted him: %+v", rep)
	}
	got, err := os.ReadFile(filepath.Join(r.srv.cfg.Dir, "handout.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("alice's copy: %d bytes, %v", len(got), err)
	}
	r.waitFor("the inbox to say complete", func() bool {
		for _, it := range r.srv.inbox.view() {
			if it.Status == "complete" && it.Verified && len(it.Paths) == 1 && it.Paths[0] == "handout.bin" {
				return true
			}
		}
		return false
	})
}

// postJSON posts v as the page's fetch does and returns the status.
func postJSON(t *testing.T, c *http.Client, url string, v any) int {
	t.Helper()
	body, _ := json.Marshal(v)
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestCancelPush: a push waiting for receivers that will not come is
// cancelled from the page, says so, and its upload is removed.
func TestCancelPush(t *testing.T) {
	r := newRoom(t, Config{})
	c := r.client()
	body, ctype := uploadBody(t, sendOptions{Channel: "open", NoEncrypt: true, MinReceivers: 5, WaitSeconds: 60}, [][2]string{{"a.txt", "x"}})
	status, out := postUpload(t, c, r, body, ctype)
	if status != http.StatusOK {
		t.Fatalf("upload: %d %v", status, out)
	}
	if status := postJSON(t, c, r.srv.origin+"/api/send/cancel", map[string]string{"id": out["id"]}); status != http.StatusAccepted {
		t.Fatalf("cancel: %d", status)
	}
	r.waitFor("the push to say cancelled", func() bool {
		jobs := r.srv.jobs.view()
		return len(jobs) == 1 && jobs[0].Status == "cancelled"
	})
	r.waitFor("the upload to be removed", func() bool {
		left, _ := os.ReadDir(r.srv.cfg.TempDir)
		return len(left) == 0
	})
	if status := postJSON(t, c, r.srv.origin+"/api/send/cancel", map[string]string{"id": out["id"]}); status != http.StatusNotFound {
		t.Errorf("cancelling a finished push: %d, want 404", status)
	}
	body, ctype = uploadBody(t, sendOptions{Channel: "open"}, [][2]string{{"a.txt", "x"}})
	if status, out := postUpload(t, c, r, body, ctype); status != http.StatusBadRequest || !strings.Contains(out["error"], "open channel") {
		t.Errorf("open channel without no_encrypt: %d %v, want refused as push refuses it", status, out)
	}
}

// TestChannelJoinedElsewhere: a channel joined with the CLI while the
// page runs (another process writing the same home) shows in Channels,
// and its messages reach the page.
func TestChannelJoinedElsewhere(t *testing.T) {
	r := newRoom(t, Config{})
	ch, err := identity.NewChannel("lab", r.bob.ID.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.bob.Channels.Add(ch); err != nil {
		t.Fatal(err)
	}
	cli, err := identity.OpenChannelStore(r.alice.Home) // as `herald channel join` would
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Add(ch); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the page to list lab", func() bool {
		for _, v := range r.srv.channelsView() {
			if v.Name == "lab" {
				return true
			}
		}
		return false
	})
	deadline := time.Now().Add(30 * time.Second)
	for { // posts until the page's engine, remade for lab, shows one
		if _, err := r.bobEngine.Post(r.ctx, message.Post{Channel: ch, Text: "lab is open"}); err != nil {
			t.Fatal(err)
		}
		msgs, _ := r.srv.msgs.since(0)
		if slices.ContainsFunc(msgs, func(m messageView) bool { return m.Channel == "lab" && m.Text == "lab is open" }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the page never showed lab's message")
		}
		time.Sleep(500 * time.Millisecond)
	}
}
