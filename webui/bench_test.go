package webui

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

// BenchmarkPageLoad is the time from navigating to the page (signed in,
// on loopback) to the page showing its first live state: the document,
// its script and style, the event stream's first update, rendered. In
// headless Chromium, so it counts what a user waits for.
func BenchmarkPageLoad(b *testing.B) {
	ctx := newBrowser(b, 1280, 860)
	r := newRoom(b, Config{})
	if err := chromedp.Do(ctx, chromedp.Navigate(r.srv.URL())); err != nil {
		b.Fatal(err)
	}
	ready := `document.body.dataset.updates >= 1 && document.getElementById("board-fp").textContent !== ""`
	var inPage float64
	b.ResetTimer()
	for b.Loop() {
		if err := chromedp.Do(ctx, chromedp.Navigate(r.srv.origin+"/")); err != nil {
			b.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](ready, chromedp.WithPollingInterval(time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			b.Fatal(err)
		}
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`Number(document.body.dataset.firstUpdateMs)`))
		if err != nil {
			b.Fatal(err)
		}
		inPage += ms
	}
	// ms/load is wall time seen from Go (with the DevTools round trips);
	// page-ms is the page's own clock from navigation start to its first
	// update shown.
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
	b.ReportMetric(inPage/float64(b.N), "page-ms")
}

// BenchmarkPageLoadHTTP is the server's share of a page load without a
// browser: the document, script and style, and the first update of the
// event stream, fetched one after the other over loopback.
func BenchmarkPageLoadHTTP(b *testing.B) {
	r := newRoom(b, Config{})
	c := r.client()
	get := func(path string) {
		resp, err := c.Get(r.srv.origin + path)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %s", path, resp.Status)
		}
	}
	for b.Loop() {
		get("/")
		get("/app.js")
		get("/style.css")
		resp, err := c.Get(r.srv.origin + "/api/events")
		if err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		resp.Body.Close()
		if err != nil || !strings.HasPrefix(line, "data: ") {
			b.Fatalf("first update: %q %v", line, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
}

// benchReceivers is how many receivers the push benchmark uses (the
// issue's responsiveness case is 10).
const benchReceivers = 10

// benchSize is the file both pushes send.
const benchSize = 32 << 20

// BenchmarkPushPageVsEngine pushes the same file to benchReceivers
// receivers on the memory network twice in one run: once from the page
// (HTTP upload, then the page's push), once straight from the engine as
// `herald push` does, with the same settings (the engine push runs
// before and after the page's, and their mean is reported). It reports each push's
// own duration (the page's without its upload, which is reported
// apart), their ratio, how many updates the page's event stream carried
// per second during the page's push, and the slowest answer to a history
// search asked ten times a second meanwhile. Run it once:
//
//	go test ./webui -run XXX -bench PushPageVsEngine -benchtime 1x
func BenchmarkPushPageVsEngine(b *testing.B) {
	size := benchSize
	r := newRoom(b, Config{MaxUpload: int64(size) + 1})
	done := make(chan push.Event, 4*benchReceivers)
	targets := []*node.Node{r.bob}
	go func() {
		for e := range r.received {
			done <- e
		}
	}()
	for i := 1; i < benchReceivers; i++ {
		n, _ := r.addReceiver(fmt.Sprintf("student%02d", i), done)
		targets = append(targets, n)
	}
	var to []string
	var recipients []identity.Peer
	for _, n := range targets {
		to = append(to, n.ID.Fingerprint())
		p, err := r.srv.peerByFingerprint(n.ID.Fingerprint())
		if err != nil {
			b.Fatal(err)
		}
		recipients = append(recipients, p)
	}
	// Three files of the same size and kind, one a push: receivers that
	// hold a push's content already answer complete at once (resume), so
	// the same bytes cannot be pushed twice to them.
	srcs := make([]string, 3)
	for i := range srcs {
		data := make([]byte, size)
		rng := rand.New(rand.NewPCG(1, uint64(i)))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		srcs[i] = filepath.Join(b.TempDir(), fmt.Sprintf("lesson%d.bin", i))
		if err := os.WriteFile(srcs[i], data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	waitAll := func() {
		for range targets {
			select {
			case <-done:
			case <-r.ctx.Done():
				b.Fatal("a receiver never completed")
			}
		}
	}
	enginePush := func(src string) time.Duration {
		source, err := push.NewSource([]string{src})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := push.Send(r.ctx, push.SendConfig{Node: r.alice, Source: source, Recipients: recipients, Wait: 10 * time.Second})
		source.Close()
		if err != nil || !rep.OK() {
			b.Fatalf("engine push: %v", err)
		}
		waitAll()
		b.Logf("engine push: %v", rep.Elapsed)
		return rep.Elapsed
	}
	c := r.client()
	runs := 0
	for b.Loop() {
		if runs++; runs > 1 {
			b.Fatal("one run only (-benchtime 1x): receivers now hold these files and would answer complete at once")
		}
		// From the engine, as the CLI pushes, before and after the page's
		// push, so drift over the run (warm-up, other load) shows.
		engineBefore := enginePush(srcs[0])
		// From the page, with the event stream open and counted.
		var updates, slowest atomic.Int64
		events, stopEvents := context.WithCancel(r.ctx)
		go countUpdates(events, c, r.srv.origin+"/api/events", &updates)
		go probeLatency(events, c, r.srv.origin+"/api/history?q=x", &slowest)
		f, err := os.Open(srcs[1])
		if err != nil {
			b.Fatal(err)
		}
		body, ctype := streamUpload(sendOptions{To: to}, "lesson1.bin", f)
		start := time.Now()
		status, out := postUpload(b, c, r, body, ctype)
		f.Close()
		if status != http.StatusOK {
			b.Fatalf("upload: %d %v", status, out)
		}
		upload := time.Since(start)
		b.Logf("upload: %v", upload)
		before := updates.Load()
		var job sendView
		r.waitFor("the page's push to finish", func() bool {
			for _, v := range r.srv.jobs.view() {
				if v.ID == out["id"] && v.Report != nil {
					job = v
					return true
				}
			}
			return false
		})
		stopEvents()
		if !job.Report.OK {
			b.Fatalf("page push: %s", job.Error)
		}
		waitAll()
		page := time.Duration(job.Report.Seconds * float64(time.Second))
		engineAfter := enginePush(srcs[2])
		engine := (engineBefore + engineAfter) / 2
		mb := float64(size) / 1e6
		b.ReportMetric(engineBefore.Seconds(), "engine-before-s")
		b.ReportMetric(page.Seconds(), "page-s")
		b.ReportMetric(engineAfter.Seconds(), "engine-after-s")
		b.ReportMetric(mb/engine.Seconds(), "engine-MB/s")
		b.ReportMetric(mb/page.Seconds(), "page-MB/s")
		b.Logf("page push: %v", page)
		b.ReportMetric(engine.Seconds()/page.Seconds(), "page/engine-speed")
		b.ReportMetric(upload.Seconds()*1000, "upload-ms")
		b.ReportMetric(float64(updates.Load()-before)/page.Seconds(), "updates/s")
		b.ReportMetric(float64(slowest.Load())/1e6, "slowest-request-ms")
	}
}

// streamUpload is a multipart body, options then one file, produced
// while it is read, so a large file is never held in memory.
func streamUpload(opts sendOptions, name string, f io.Reader) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		o, _ := json.Marshal(opts)
		mw.WriteField("options", string(o))
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
		w, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(w, f)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

// probeLatency asks the page's API (a history search) ten times a
// second until ctx ends, and keeps the slowest answer's time in ns: the
// page's responsiveness during the push.
func probeLatency(ctx context.Context, c *http.Client, url string, slowest *atomic.Int64) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if d := time.Since(start).Nanoseconds(); d > slowest.Load() {
			slowest.Store(d)
		}
	}
}

// countUpdates reads an event stream until ctx ends, counting updates.
func countUpdates(ctx context.Context, c *http.Client, url string, n *atomic.Int64) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			n.Add(1)
		}
	}
}
