package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/internal/termui"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

func pushesPath(n *node.Node) string { return filepath.Join(n.Home, history.PushesFileName) }

// recordPushSent keeps a finished push in the pushes log; a failure is a
// warning, since the push itself is over.
func recordPushSent(n *node.Node, errw io.Writer, r *push.Report, outcome string) {
	p := history.Push{Time: time.Now(), Direction: history.PushSent, Session: r.Session, Sender: n.ID.Name,
		SenderFingerprint: n.ID.Fingerprint(), Status: outcome, Bytes: r.Bytes}
	for _, rr := range r.Receivers {
		p.Receivers = append(p.Receivers, history.PushReceiver{Name: rr.Name, Fingerprint: rr.Fingerprint, Status: rr.Status})
	}
	if err := history.AppendPush(pushesPath(n), p); err != nil {
		fmt.Fprintf(errw, "warning: pushes log not written: %v\n", err)
	}
}

// recordPushReceived keeps a push this node received (complete or failed).
func recordPushReceived(n *node.Node, errw io.Writer, e push.Event) {
	p := history.Push{Time: e.Time, Direction: history.PushReceived, Session: e.Session,
		SenderFingerprint: e.Sender, Status: e.Kind.String(), Bytes: e.Total, Paths: e.Paths}
	if peer, err := n.Trust.Resolve(e.Sender); err == nil {
		p.Sender = peer.Name
	}
	if err := history.AppendPush(pushesPath(n), p); err != nil {
		fmt.Fprintf(errw, "warning: pushes log not written: %v\n", err)
	}
}

// pushJSON is one line of `herald history --pushes --json` (docs/json.md).
type pushJSON struct {
	Kind              string             `json:"kind"`
	Time              string             `json:"time"`
	Direction         string             `json:"direction"`
	Session           string             `json:"session"`
	Sender            string             `json:"sender"`
	SenderFingerprint string             `json:"sender_fingerprint"`
	Status            string             `json:"status"`
	Bytes             int64              `json:"bytes"`
	Receivers         []pushReceiverJSON `json:"receivers,omitempty"`
	Paths             []string           `json:"paths,omitempty"`
}

type pushReceiverJSON struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Status      string `json:"status"`
}

// printPushes prints the pushes log as a table or JSON lines.
func printPushes(w io.Writer, pushes []history.Push, asJSON bool) error {
	if asJSON {
		for _, p := range pushes {
			j := pushJSON{Kind: "push", Time: jsonTime(p.Time), Direction: p.Direction, Session: p.Session, Sender: p.Sender,
				SenderFingerprint: p.SenderFingerprint, Status: p.Status, Bytes: p.Bytes, Paths: p.Paths}
			for _, r := range p.Receivers {
				j.Receivers = append(j.Receivers, pushReceiverJSON(r))
			}
			if err := writeJSON(w, j); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tDIRECTION\tSENDER\tSIZE\tSTATUS\tRECEIVERS / PATHS")
	for _, p := range pushes {
		var who []string
		for _, r := range p.Receivers {
			who = append(who, safeName(termui.OrDash(r.Name))+" "+r.Status)
		}
		for _, path := range p.Paths {
			who = append(who, safeLine(path))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s (%s)\t%s\t%s\t%s\n", p.Time.Local().Format(time.DateTime), p.Direction,
			safeName(termui.OrDash(p.Sender)), p.SenderFingerprint, termui.HumanBytes(p.Bytes), p.Status, termui.OrDash(strings.Join(who, ", ")))
	}
	return tw.Flush()
}
