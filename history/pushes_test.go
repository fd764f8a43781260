package history

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPushesLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), PushesFileName)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	sent := Push{Time: at, Direction: PushSent, Session: "ab", Sender: "teacher", SenderFingerprint: "FP", Status: "partial", Bytes: 10,
		Receivers: []PushReceiver{{Name: "s1", Fingerprint: "F1", Status: "complete"}, {Name: "s2", Fingerprint: "F2", Status: "refused"}}}
	got := Push{Time: at.Add(time.Minute), Direction: PushReceived, Session: "cd", Sender: "teacher", Status: "complete", Paths: []string{"lesson"}}
	for _, p := range []Push{sent, got} {
		if err := AppendPush(path, p); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(path+".junk", nil, 0o600)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{cut by a cra") // a torn last line is skipped
	f.Close()
	all, err := ReadPushes(path, time.Time{}, 0)
	if err != nil || len(all) != 2 || all[0].Receivers[1].Status != "refused" || all[1].Paths[0] != "lesson" {
		t.Fatalf("ReadPushes = %+v, %v", all, err)
	}
	if newest, _ := ReadPushes(path, time.Time{}, 1); len(newest) != 1 || newest[0].Session != "cd" {
		t.Fatalf("limit 1 = %+v", newest)
	}
	if recent, _ := ReadPushes(path, at.Add(30*time.Second), 0); len(recent) != 1 {
		t.Fatalf("since = %+v", recent)
	}
	if none, err := ReadPushes(filepath.Join(t.TempDir(), "absent"), time.Time{}, 0); none != nil || err != nil {
		t.Fatalf("missing log: %v %v", none, err)
	}
}

func TestPushesLogIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), PushesFileName)
	big := Push{Time: time.Now(), Direction: PushSent, Status: "complete", Sender: strings.Repeat("x", 4000)}
	for i := 0; i < 2*maxPushesFile/4000; i++ {
		big.Session = strings.Repeat("s", i%7+1)
		if err := AppendPush(path, big); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() > maxPushesFile+maxPushLine {
		t.Fatalf("log is %d bytes, bound %d", st.Size(), maxPushesFile)
	}
	if all, _ := ReadPushes(path, time.Time{}, 0); len(all) == 0 {
		t.Fatal("trimming left no whole line")
	}
}
