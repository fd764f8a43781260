package termui

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/push"
)

// Two pushes received at once emit events from two goroutines; every
// write of the view, the final newline included, happens under its lock
// (run with -race), and no line is torn.
func TestProgressTwoConcurrentPushes(t *testing.T) {
	for _, term := range []Terminal{{Width: 80}, {TTY: true, Width: 80}} {
		t.Run(fmt.Sprintf("tty=%v", term.TTY), func(t *testing.T) {
			var out bytes.Buffer // not safe for concurrent use: the view must serialise
			v := NewProgress(&out, term, false)
			clock := time.Unix(0, 0)
			var mu sync.Mutex
			v.now = func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				clock = clock.Add(700 * time.Millisecond)
				return clock
			}
			var wg sync.WaitGroup
			for _, session := range []string{"aaaa", "bbbb"} {
				wg.Go(func() {
					v.Event(push.Event{Kind: push.EventJoined, Session: session, Total: 1000})
					for i := range 200 {
						v.Event(push.Event{Kind: push.EventProgress, Session: session, Bytes: int64(i * 5), Total: 1000})
					}
					v.Event(push.Event{Kind: push.EventComplete, Session: session, Paths: []string{"lesson-" + session}})
				})
			}
			wg.Go(v.Done)
			wg.Wait()
			v.Done()
			text := out.String()
			for _, session := range []string{"aaaa", "bbbb"} {
				if !strings.Contains(text, "complete: lesson-"+session+"\n") {
					t.Errorf("the completion of %s is missing or torn:\n%q", session, text)
				}
			}
			if !term.TTY && strings.Contains(text, "\r") {
				t.Errorf("redraws on a non-terminal:\n%q", text)
			}
		})
	}
}

func TestHumanUnits(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {20 << 20, "20.0 MiB"}} {
		if got := HumanBytes(c.n); got != c.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := HumanRate(95.1e6); got != "95.1 Mbit/s" {
		t.Errorf("HumanRate = %q", got)
	}
}

func TestWaitingLine(t *testing.T) {
	named := push.Event{Kind: push.EventWaiting, Bytes: 1, Total: 3, Missing: []string{"stu-s2", "stu\u202es3"}}
	if got := WaitingLine(named); got != `waiting: 1 of 3 joined; missing stu-s2, stu\u202es3` && !strings.Contains(got, "missing stu-s2, stu") {
		t.Errorf("WaitingLine = %q", got)
	}
	if got := WaitingLine(named); strings.ContainsRune(got, '\u202e') {
		t.Errorf("a missing name reaches the terminal raw: %q", got)
	}
	if got := WaitingLine(push.Event{Kind: push.EventWaiting, Bytes: 3, Total: 30}); got != "waiting: 3 of 30 joined; 27 more needed" {
		t.Errorf("WaitingLine = %q", got)
	}
}
