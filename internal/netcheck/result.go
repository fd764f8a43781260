package netcheck

import (
	"encoding/json"
	"fmt"
)

// Status is a check's verdict.
type Status int

const (
	Pass Status = iota
	Warn
	Fail
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	}
	return "INVALID"
}

// MarshalJSON writes the status by name.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a status by name.
func (s *Status) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	for _, v := range []Status{Pass, Warn, Fail} {
		if v.String() == name {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("netcheck: unknown status %q", name)
}

// Result is one check's outcome.
type Result struct {
	// Check names what was checked: "interface", "route", "rp_filter",
	// "firewall", "rmem", "querier", "peers", "clock", "static-peer",
	// "deaf-peer", "with".
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Detail says what was seen, in one line.
	Detail string `json:"detail"`
	// Fix is one line for a person to act on; empty on PASS.
	Fix string `json:"fix,omitempty"`
	// Peer is the fingerprint a peer check is about.
	Peer string `json:"peer,omitempty"`
}

func pass(check, detail string, args ...any) Result {
	return Result{Check: check, Status: Pass, Detail: fmt.Sprintf(detail, args...)}
}

func warn(check, fix, detail string, args ...any) Result {
	return Result{Check: check, Status: Warn, Detail: fmt.Sprintf(detail, args...), Fix: fix}
}

func fail(check, fix, detail string, args ...any) Result {
	return Result{Check: check, Status: Fail, Detail: fmt.Sprintf(detail, args...), Fix: fix}
}

// Failed reports whether any result is a FAIL.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Status == Fail {
			return true
		}
	}
	return false
}
