package webui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/joinqr"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/push"
)

// screenshotsEnv names the folder the browser test writes its
// screenshots to (docs/screenshots when regenerating README's images);
// unset, no screenshot is written.
const screenshotsEnv = "HERALD_SCREENSHOTS"

// chromiumPath finds Chromium, or returns "" when this machine has none.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts headless Chromium with a fresh profile and returns a
// tab's context; the browser ends with the test.
func newBrowser(t testing.TB, width, height int) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("no Chromium on this machine (Debian: apt-get install chromium); browser tests skipped")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// waitJS polls a JavaScript predicate in the page.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// screenshot saves the viewport as name.png in $HERALD_SCREENSHOTS.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func click(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		t.Fatalf("click %s: %v", css, err)
	}
}

// TestBrowser drives the page in headless Chromium against two nodes on
// the memory network: the room lists bob; a folder picked in the Send
// panel and sent to bob arrives intact and the receiver table says
// complete; a chat line typed in Messages reaches bob and bob's reply is
// shown; trusting bob from the Room's prompt lets his push land in the
// Inbox; a channel created in Channels shows its join code.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 1280, 860)
	r := newRoom(t, Config{})
	bobFP, aliceFP := r.bob.ID.Fingerprint(), r.alice.ID.Fingerprint()
	others := make(chan push.Event, 4)
	carol, carolDir := r.addReceiver("carol", others)
	dave, daveDir := r.addReceiver("dave", others)
	receivers := map[string]string{"bob": r.bobDir, "carol": carolDir, "dave": daveDir}

	// Room.
	if err := chromedp.Do(ctx, chromedp.Navigate(r.srv.URL())); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the live stream", `document.getElementById("conn").textContent === "live"`)
	for _, fp := range []string{bobFP, carol.ID.Fingerprint(), dave.ID.Fingerprint()} {
		waitJS(t, ctx, fp+" in the room", fmt.Sprintf(`document.querySelector("#room-table tbody").textContent.includes(%q)`, fp))
	}
	waitJS(t, ctx, "own fingerprint on the board", fmt.Sprintf(`document.getElementById("board-fp").textContent === %q`, aliceFP))
	screenshot(t, ctx, "room")

	// Keyboard: arrow keys move between the panels' tabs, with focus.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#tab-room"), kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "ArrowRight to select Send", `document.activeElement.id === "tab-send" && !document.getElementById("panel-send").hidden && document.getElementById("panel-room").hidden`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#tab-send"), kb.ArrowLeft)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "ArrowLeft back to Room", `document.activeElement.id === "tab-room" && !document.getElementById("panel-room").hidden`)

	// Send a folder to bob.
	folder := filepath.Join(t.TempDir(), "lesson")
	files := map[string]string{"intro.txt": "welcome to the lesson\n", "exercises/one.txt": "1. read\n", "exercises/two.md": "# two\n",
		"slides.pdf": strings.Repeat("slide ", 400_000)}
	writeTree(t, folder, files)
	click(t, ctx, "#tab-send")
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#pick-folder"), []string{folder})); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the picked folder", `document.getElementById("picked-summary").textContent.startsWith("4 file(s)")`)
	for _, fp := range []string{bobFP, carol.ID.Fingerprint(), dave.ID.Fingerprint()} {
		click(t, ctx, fmt.Sprintf(`#send-peers input[value=%q]`, fp))
	}
	click(t, ctx, "#send-go")
	waitJS(t, ctx, "the receiver table to reach complete for all three",
		`document.querySelectorAll("#jobs article.done tr.rcv.complete").length === 3`)
	for i := 0; i < 3; i++ {
		select {
		case <-r.received:
		case <-others:
		case <-time.After(30 * time.Second):
			t.Fatal("a receiver never completed")
		}
	}
	for name, dir := range receivers {
		for p, want := range files {
			got, err := os.ReadFile(filepath.Join(dir, "lesson", filepath.FromSlash(p)))
			if err != nil || string(got) != want {
				t.Errorf("%s's lesson/%s: %q, %v", name, p, got, err)
			}
		}
	}
	screenshot(t, ctx, "send")

	// Chat both ways.
	click(t, ctx, "#tab-messages")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#msg-text"), "hello <b>class</b>\r")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-r.bobMsgs:
		if m.Text != "hello <b>class</b>" || m.Fingerprint != aliceFP {
			t.Errorf("bob got %q from %s", m.Text, m.Fingerprint)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("bob never got the chat line")
	}
	reply := `<img src=x onerror="document.body.dataset.pwned=1">thanks!`
	if _, err := r.bobEngine.Post(r.ctx, message.Post{Channel: identity.OpenChannel(), Text: reply}); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "bob's reply on the page", fmt.Sprintf(`[...document.querySelectorAll("#msg-list .text")].some(e => e.textContent === %q)`, reply))
	if pwned, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.dataset.pwned === "1" || !!document.querySelector("#msg-list img, #msg-list b")`)); pwned {
		t.Error("message text was rendered as markup")
	}
	// An announcement typed on the page, a private message from bob with
	// its receipt, then the history search finds the first chat line.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(k => { k.value = "announce"; k.dispatchEvent(new Event("change")); return true })(document.getElementById("msg-kind"))`)); err != nil {
		t.Fatal(err)
	}
	click(t, ctx, "#msg-priority")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#msg-text"), "Lesson 3 is in your inbox: open lesson/intro.txt\r")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-r.bobMsgs:
		if m.Kind != message.KindAnnounce || !m.Priority {
			t.Errorf("bob got %v priority %v, want a high priority announcement", m.Kind, m.Priority)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("bob never got the announcement")
	}
	aliceSeen, ok := r.bobPres.Lookup(r.alice.ID.SignPub)
	if !ok {
		t.Fatal("bob lost alice")
	}
	if _, err := r.bobEngine.SendPrivate(r.ctx, message.Recipient{SignPub: aliceSeen.SignPub, BoxPub: aliceSeen.BoxPub}, "Could I get the slides again after class?"); err != nil {
		t.Fatalf("bob's private message: %v (no receipt from the page's node?)", err)
	}
	waitJS(t, ctx, "bob's private message", `[...document.querySelectorAll("#msg-list .msg.private .text")].some(e => e.textContent.startsWith("Could I get"))`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#hist-q"), "class")); err != nil {
		t.Fatal(err)
	}
	found := false
	for i := 0; i < 20 && !found; i++ { // the history store is written about once a second
		click(t, ctx, `#hist-form button[type="submit"]`)
		time.Sleep(250 * time.Millisecond)
		found, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll("#hist-list .text")].some(e => e.textContent === "hello <b>class</b>")`))
	}
	if !found {
		t.Error("history search never found the chat line")
	}
	screenshot(t, ctx, "messages")

	// Trust bob from the Room's prompt, then bob pushes to alice.
	click(t, ctx, "#tab-room")
	click(t, ctx, "#room-table tbody tr:first-child button") // bob, the first by name
	waitJS(t, ctx, "the trust prompt", fmt.Sprintf(`document.getElementById("trust-dialog").open && document.getElementById("trust-fp").textContent === %q`, bobFP))
	screenshot(t, ctx, "trust")
	click(t, ctx, "#trust-yes")
	waitJS(t, ctx, "bob trusted", `!!document.querySelector("#room-table .trust.trusted")`)
	alice, ok := r.bobPres.Lookup(r.alice.ID.SignPub)
	if !ok {
		t.Fatal("bob lost alice")
	}
	handout := filepath.Join(t.TempDir(), "handout.txt")
	writeTree(t, filepath.Dir(handout), map[string]string{"handout.txt": "from bob"})
	src, err := push.NewSource([]string{handout})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rep, err := push.Send(r.ctx, push.SendConfig{Node: r.bob, Source: src, Wait: 10 * time.Second,
		Recipients: []identity.Peer{{Name: alice.Name, SignPub: alice.SignPub, BoxPub: alice.BoxPub, Fingerprint: alice.Fingerprint}}})
	if err != nil || !rep.OK() {
		t.Fatalf("bob's push to alice: %v %+v", err, rep)
	}
	click(t, ctx, "#tab-inbox")
	waitJS(t, ctx, "the inbox row", `[...document.querySelectorAll("#inbox-table a")].some(a => a.textContent === "handout.txt")`)
	screenshot(t, ctx, "inbox")

	// Channels: create one, its join code shows.
	click(t, ctx, "#tab-channels")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#ch-new-name"), "class\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the join code", `document.getElementById("ch-code-text").textContent.startsWith("class-")`)
	ch, ok := r.alice.Channels.Get("class")
	if !ok {
		t.Fatal("channel not in alice's store")
	}
	if code, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#ch-code-text"))); code != ch.JoinCode() {
		t.Errorf("page shows join code %q, store has %q", code, ch.JoinCode())
	}
	checkJoinQR(t, ctx, ch.JoinCode())
	waitJS(t, ctx, "the channel listed as the default", `[...document.querySelectorAll("#ch-table tbody tr")].some(tr => tr.cells[0].textContent === "#class" && tr.cells[1].textContent === "yes")`)
	if def := r.alice.Channels.Default(); def.Name != "class" {
		t.Errorf("default channel %q after creating class on the page, want class (as herald channel new)", def.Name)
	}
	screenshot(t, ctx, "channels")

	// Phone width: no panel is wider than the screen.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	for _, panel := range []string{"send", "inbox", "messages", "channels", "room"} {
		click(t, ctx, "#tab-"+panel)
		if w, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); w > 390 {
			t.Errorf("%s panel is %v px wide at phone width (390)", panel, w)
		}
	}
	screenshot(t, ctx, "phone-room")
}

// checkJoinQR reads the QR code the Channels panel shows back from the
// browser's rendering (drawn on a canvas, one pixel per module centre)
// and compares it with joinqr's code of the join code, module by module.
func checkJoinQR(t *testing.T, ctx context.Context, code string) {
	t.Helper()
	waitJS(t, ctx, "the join code's QR code", `(q => !q.hidden && q.complete && q.naturalWidth > 0)(document.getElementById("ch-code-qr"))`)
	want, err := joinqr.Encode(code)
	if err != nil {
		t.Fatal(err)
	}
	read := fmt.Sprintf(`(() => {
		const img = document.getElementById("ch-code-qr"), px = %d, quiet = %d, size = %d;
		if (img.naturalWidth !== (size + 2 * quiet) * px) return "naturalWidth " + img.naturalWidth;
		const c = document.createElement("canvas");
		c.width = c.height = img.naturalWidth;
		const g = c.getContext("2d");
		g.drawImage(img, 0, 0);
		let bits = "";
		for (let y = 0; y < size; y++)
			for (let x = 0; x < size; x++)
				bits += g.getImageData((x + quiet) * px + px / 2, (y + quiet) * px + px / 2, 1, 1).data[0] < 128 ? "1" : "0";
		return bits;
	})()`, joinqr.ModulePixels, 4, want.Size)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](read))
	if err != nil {
		t.Fatal(err)
	}
	var bits strings.Builder
	for y := range want.Size {
		for x := range want.Size {
			if want.Black(x, y) {
				bits.WriteByte('1')
			} else {
				bits.WriteByte('0')
			}
		}
	}
	if got != bits.String() {
		t.Fatalf("the page's QR code is not the join code's (%d modules): page %.80s…, want %.80s…", want.Size, got, bits.String())
	}
	if visible, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("ch-code-qr").getBoundingClientRect().width`)); visible < 150 {
		t.Errorf("the QR code is %v px wide on the page; too small to scan", visible)
	}
}
