package history

import (
	"fmt"
	"os"
	"testing"
)

// TestStrangersNeverEvictTrusted is issue 18 item 8: 11,000 private
// messages from 40 fresh keys keep the teacher's message, stay within
// the strangers' bounds, and no stranger holds more than its quota.
func TestStrangersNeverEvictTrusted(t *testing.T) {
	s, path := openTemp(t)
	teacher := entry(0, KindPrivate, "", "TEACHER")
	teacher.Text = "exam moved to room 4"
	if err := s.Append(teacher); err != nil {
		t.Fatal(err)
	}
	var batch []Entry
	for i := range 11_000 {
		e := entry(i+1, KindPrivate, "", fmt.Sprintf("FRESH%02d", i%40))
		e.Trust = "unknown"
		e.Text = fmt.Sprintf("%0500d", i) // ~0.7 KiB encoded
		batch = append(batch, e)
		if len(batch) == 500 {
			if err := s.Append(batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	all, err := s.Query(Query{Private: true})
	if err != nil {
		t.Fatal(err)
	}
	perSender := map[string]int{}
	kept := false
	for _, e := range all {
		perSender[e.Fingerprint]++
		kept = kept || e.Text == teacher.Text
	}
	if !kept {
		t.Fatal("the teacher's message was evicted by strangers")
	}
	if n := len(all) - 1; n > MaxStrangerEntries {
		t.Errorf("%d strangers' entries kept, bound %d", n, MaxStrangerEntries)
	}
	for fp, n := range perSender {
		if fp != "TEACHER" && n > MaxPerStranger {
			t.Errorf("%s holds %d entries, quota %d", fp, n, MaxPerStranger)
		}
	}
	s.Close()
	st, _ := os.Stat(path)
	t.Logf("%d entries kept, file %d KiB", len(all), st.Size()>>10)
	if st.Size() > 4*MaxStrangerBytes {
		t.Errorf("history file %d bytes", st.Size())
	}
}

// TestSameMessageRecordedOnce is issue 18 item 9: two listen processes
// on one home (or a retained re-send after a restart) record a message
// once.
func TestSameMessageRecordedOnce(t *testing.T) {
	s, _ := openTemp(t)
	e := entry(1, KindAnnounce, "class", "TEACHER")
	for range 2 {
		if err := s.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	other := entry(1, KindAnnounce, "class", "OTHER") // same id, another sender
	if err := s.Append(other); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Query(Query{Channel: "class"})
	if len(got) != 2 {
		t.Fatalf("kept %d entries, want 2: %+v", len(got), got)
	}
}

// An evicted entry frees its id and its sender's quota.
func TestEvictionFreesIDAndQuota(t *testing.T) {
	s, _ := openTemp(t)
	s.maxStrangerEntries, s.maxPerStranger = 3, 3
	for i := range 5 {
		e := entry(i, KindChat, "lab", "X")
		e.Trust = "seen"
		if err := s.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.Query(Query{Channel: "lab"})
	if texts(got) != "m0,m1,m2" {
		t.Fatalf("over quota: kept %q", texts(got))
	}
	y := entry(9, KindChat, "lab", "Y")
	y.Trust = "seen"
	s.Append(y) // evicts X's oldest
	e := entry(0, KindChat, "lab", "X")
	e.Trust, e.ID, e.Text = "seen", "fresh", "again"
	if err := s.Append(e); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Query(Query{Channel: "lab"})
	if texts(got) != "again,m2,m9" && texts(got) != "m2,again,m9" && texts(got) != "m2,m9,again" {
		t.Fatalf("kept %q", texts(got))
	}
}

// TestShownSurvivesRestart is issue 18 item 6 for messages: a listener
// started after a message was recorded knows it was shown.
func TestShownSurvivesRestart(t *testing.T) {
	s, path := openTemp(t)
	e := entry(1, KindAnnounce, "class", "TEACHER")
	if err := s.Append(e); err != nil {
		t.Fatal(err)
	}
	s.Close()
	shown, err := ReadShown(path)
	if err != nil {
		t.Fatal(err)
	}
	if !shown.Has(e) {
		t.Fatal("a recorded announcement is not known as shown")
	}
	other := entry(2, KindAnnounce, "class", "TEACHER")
	if shown.Has(other) {
		t.Fatal("an unrecorded message is known as shown")
	}
}
