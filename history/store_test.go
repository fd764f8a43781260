package history

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func entry(i int, kind, channel, fp string) Entry {
	return Entry{Time: t0.Add(time.Duration(i) * time.Second), Kind: kind, Channel: channel,
		Sender: "s" + fp, Fingerprint: fp, Trust: "trusted", ID: fmt.Sprintf("%016x", i), Text: fmt.Sprintf("m%d", i)}
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "home", FileName)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func texts(es []Entry) string {
	var b []string
	for _, e := range es {
		b = append(b, e.Text)
	}
	return strings.Join(b, ",")
}

func TestQuery(t *testing.T) {
	s, _ := openTemp(t)
	priv := entry(4, KindPrivate, "", "AAAA")
	priv.Peer = "AAAA"
	out := entry(5, KindPrivate, "", "ME")
	out.Peer, out.Outgoing = "BBBB", true
	err := s.Append(
		entry(0, KindAnnounce, "open", "AAAA"),
		entry(1, KindChat, "lab", "BBBB"),
		entry(2, KindChat, "lab", "AAAA"),
		entry(3, KindAnnounce, "open", "BBBB"),
		priv, out,
	)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		q    Query
		want string
	}{
		{"all, oldest first", Query{}, "m0,m1,m2,m3,m4,m5"},
		{"channel", Query{Channel: "lab"}, "m1,m2"},
		{"unknown channel", Query{Channel: "nope"}, ""},
		{"peer everywhere", Query{Peer: "AAAA"}, "m0,m2,m4"},
		{"peer on a channel", Query{Channel: "open", Peer: "BBBB"}, "m3"},
		{"private only", Query{Private: true}, "m4,m5"},
		{"private with peer, both directions", Query{Private: true, Peer: "BBBB"}, "m5"},
		{"since", Query{Since: t0.Add(3 * time.Second)}, "m3,m4,m5"},
		{"limit keeps newest", Query{Limit: 2}, "m4,m5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Query(c.q)
			if err != nil {
				t.Fatal(err)
			}
			if texts(got) != c.want {
				t.Fatalf("got %q, want %q", texts(got), c.want)
			}
		})
	}
}

func TestBounds(t *testing.T) {
	cases := []struct {
		name       string
		maxEntries uint64
		maxBytes   uint64
		appended   int
		want       string
	}{
		{"entries", 3, MaxBytes, 10, "m7,m8,m9"},
		{"bytes", MaxEntries, 400, 10, "m8,m9"}, // an entry encodes to ~190 bytes
		{"under both", 5, MaxBytes, 4, "m0,m1,m2,m3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := openTemp(t)
			s.maxEntries, s.maxBytes = c.maxEntries, c.maxBytes
			for i := range c.appended { // one transaction each, like a long-running listen
				if err := s.Append(entry(i, KindChat, "lab", "AAAA")); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Query(Query{Channel: "lab"})
			if err != nil {
				t.Fatal(err)
			}
			if texts(got) != c.want {
				t.Fatalf("kept %q, want %q", texts(got), c.want)
			}
			var keys int
			s.db.View(func(tx *bolt.Tx) error {
				keys = tx.Bucket([]byte(channelPrefix + "lab")).Stats().KeyN
				return nil
			})
			if keys != len(got) {
				t.Fatalf("bucket holds %d keys, query saw %d: deleted entries linger", keys, len(got))
			}
		})
	}
}

func TestLongTextCut(t *testing.T) {
	s, _ := openTemp(t)
	e := entry(0, KindChat, "lab", "AAAA")
	e.Text = strings.Repeat("x", MaxTextLen+10)
	if err := s.Append(e); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Query(Query{})
	if len(got) != 1 || len(got[0].Text) != MaxTextLen {
		t.Fatalf("stored %d entries, text %d bytes", len(got), len(got[0].Text))
	}
}

func TestReadMissingStore(t *testing.T) {
	got, err := Read(filepath.Join(t.TempDir(), FileName), Query{})
	if err != nil || got != nil {
		t.Fatalf("Read of a missing store = %v, %v; want nothing, no error", got, err)
	}
}

func TestLocked(t *testing.T) {
	old := lockWait
	lockWait = 50 * time.Millisecond
	t.Cleanup(func() { lockWait = old })
	_, path := openTemp(t)
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: got %v, want ErrLocked", err)
	}
	if _, err := Read(path, Query{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("reader during a write: got %v, want ErrLocked", err)
	}
}

// TestRecordersShareTheFile runs two Recorders on one file, as listen and
// send in two processes would: every entry of both reaches it.
func TestRecordersShareTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	recorders := []*Recorder{NewRecorder(path, nil), NewRecorder(path, nil)}
	var wg sync.WaitGroup
	for r, rec := range recorders {
		wg.Go(func() {
			for i := range 100 {
				if !rec.Record(entry(r*1000+i, KindChat, fmt.Sprint("c", r), "AAAA")) {
					t.Error("queue of 1024 overflowed with 100 entries")
				}
			}
		})
	}
	wg.Wait()
	for _, rec := range recorders {
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		if rec.Written() != 100 || rec.Dropped() != 0 {
			t.Fatalf("written %d dropped %d, want 100 and 0", rec.Written(), rec.Dropped())
		}
	}
	for r := range recorders {
		got, err := Read(path, Query{Channel: fmt.Sprint("c", r)})
		if err != nil || len(got) != 100 {
			t.Fatalf("channel c%d: %d entries, %v", r, len(got), err)
		}
	}
}

func TestRecorderReportsWriteFailure(t *testing.T) {
	dir := t.TempDir()
	rec := NewRecorder(dir, nil) // a directory is not a store
	rec.Record(entry(0, KindChat, "lab", "AAAA"))
	if err := rec.Close(); err == nil {
		t.Fatal("Close hid the write failure")
	}
	if rec.Dropped() != 1 {
		t.Fatalf("dropped %d, want 1", rec.Dropped())
	}
}

// TestRecorderLingers: entries arriving within the linger are written in
// one open of the file, not before the linger ends, and without Close.
func TestRecorderLingers(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	rec := NewRecorder(path, nil)
	defer rec.Close()
	rec.linger = 300 * time.Millisecond
	start := time.Now()
	rec.Record(entry(0, KindChat, "lab", "AAAA"))
	time.Sleep(50 * time.Millisecond)
	rec.Record(entry(1, KindChat, "lab", "AAAA"))
	for rec.Written() == 0 {
		if time.Since(start) > 5*time.Second {
			t.Fatal("nothing written 5 s after the first entry")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if elapsed := time.Since(start); elapsed < rec.linger {
		t.Fatalf("written after %v, before the linger of %v", elapsed, rec.linger)
	}
	if n := rec.Written(); n != 2 {
		t.Fatalf("first write held %d entries, want both", n)
	}
}

// TestRecorderCloseWritesAtOnce: Close does not wait out the linger.
func TestRecorderCloseWritesAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	rec := NewRecorder(path, nil)
	rec.Record(entry(0, KindChat, "lab", "AAAA"))
	start := time.Now()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed >= RecorderLinger {
		t.Fatalf("Close took %v, the whole linger", elapsed)
	}
	if got, err := Read(path, Query{Channel: "lab"}); err != nil || len(got) != 1 {
		t.Fatalf("after Close: %d entries, %v", len(got), err)
	}
}
