package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// PushesFileName is the pushes log in the home: one JSON object per line,
// each a push this node sent or received.
const PushesFileName = "pushes.jsonl"

// Bounds of the pushes log: past maxPushesFile bytes it is cut to its
// newest keepPushesFile bytes; a line longer than maxPushLine (a push
// to thousands of receivers) is cut to its first receivers.
const (
	maxPushesFile  = 1 << 20
	keepPushesFile = maxPushesFile / 2
	maxPushLine    = 64 << 10
	maxPushNames   = 500
)

// Directions of a Push.
const (
	PushSent     = "sent"
	PushReceived = "received"
)

// Push is one push as this node saw it end: who sent it, who received
// it and how it ended.
type Push struct {
	Time              time.Time      `json:"time"`
	Direction         string         `json:"direction"` // PushSent or PushReceived
	Session           string         `json:"session"`
	Sender            string         `json:"sender"`
	SenderFingerprint string         `json:"sender_fingerprint"`
	Status            string         `json:"status"` // sent: the outcome (complete, partial, ...); received: complete or failed
	Bytes             int64          `json:"bytes"`
	Receivers         []PushReceiver `json:"receivers,omitempty"` // sent only
	Paths             []string       `json:"paths,omitempty"`     // received only: what was placed
}

// PushReceiver is one receiver of a sent push.
type PushReceiver struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Status      string `json:"status"`
}

// AppendPush adds p to the log at path, cutting the log to its newest
// part when it grew past its bound. Appends of one line are atomic
// between the processes of one home (O_APPEND).
func AppendPush(path string, p Push) error {
	if len(p.Receivers) > maxPushNames {
		p.Receivers = p.Receivers[:maxPushNames]
	}
	if len(p.Paths) > maxPushNames {
		p.Paths = p.Paths[:maxPushNames]
	}
	line, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if len(line) >= maxPushLine {
		p.Receivers, p.Paths = nil, nil
		if line, err = json.Marshal(p); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(append(line, '\n'))
	st, serr := f.Stat()
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return werr
	}
	if serr == nil && st.Size() > maxPushesFile {
		return trimPushes(path)
	}
	return nil
}

// trimPushes keeps the newest whole lines within keepPushesFile bytes.
func trimPushes(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data) > keepPushesFile {
		data = data[len(data)-keepPushesFile:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pushes-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadPushes returns the log at path, oldest first, at most the newest
// limit (0: all). A missing log is empty; a line that does not parse
// (cut by a crash) is skipped.
func ReadPushes(path string, since time.Time, limit int) ([]Push, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Push
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxPushLine+1)
	for sc.Scan() {
		var p Push
		if json.Unmarshal(sc.Bytes(), &p) != nil || p.Time.Before(since) {
			continue
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return out, err
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}
