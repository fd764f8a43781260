package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
)

// chatMaxSending bounds the lines and /msg being sent at once; typing
// faster than they go out waits for one to finish.
const chatMaxSending = 16

// chatQuitGrace is how long chat waits on quitting for lines still being
// repeated and private messages still waiting for a receipt.
const chatQuitGrace = time.Second

const chatHelp = `/msg PEER TEXT  private message (PEER: name or fingerprint)
/peers          who is on the LAN
/trust PEER     trust PEER's key (compare fingerprints first)
/quit           leave (also Ctrl-D on an empty line, Ctrl-C)
//TEXT          send a line that starts with /`

func chatCommand() *cli.Command {
	return &cli.Command{
		Name:  "chat",
		Usage: "chat on a channel, interactively",
		Description: `Sends each line you type to the channel (default: your default channel) and shows
the lines of others, private messages to you, and peers joining and leaving. On a
terminal the input line stays at the bottom; otherwise lines are read from standard
input until it ends. Lines are kept in the history (herald history).

` + chatHelp + `

Examples:
  herald chat
  herald chat --channel class`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "channel", EnvVars: []string{"HERALD_CHANNEL"}, Usage: "channel to chat on (\"open\": anyone can read)"},
		},
		Action: runChat,
	}
}

// chatSession is one running chat: the engines, the screen, and the
// lines and private messages in flight. Its methods are safe for
// concurrent use.
type chatSession struct {
	cli     *cli.Context
	node    *node.Node
	channel identity.Channel
	pres    *presence.Presence
	eng     *message.Engine
	rec     *history.Recorder
	ui      *chatUI
	sending chan struct{} // semaphore of chatMaxSending
	wg      sync.WaitGroup
}

func runChat(c *cli.Context) error {
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	n, ch, err := openNodeOnChannel(c)
	if err != nil {
		return err
	}
	pres := presence.New(n, protocol.OfferListen)
	eng, err := message.New(message.Config{Node: n, Peers: pres, Channels: []identity.Channel{ch}})
	if err != nil {
		return err
	}
	ui, restore, err := newChatUI(c.App.Reader, c.App.Writer, "#"+ch.Name+"> ")
	if err != nil {
		return err
	}
	defer restore()
	s := &chatSession{cli: c, node: n, channel: ch, pres: pres, eng: eng, rec: openHistory(n), ui: ui,
		sending: make(chan struct{}, chatMaxSending)}
	note := ""
	if ch.IsOpen() {
		note = "; " + openChannelNote
	}
	ui.println(fmt.Sprintf("chatting on #%s as %s (%s)%s. /help for commands.", ch.Name, safeName(n.ID.Name), n.ID.Fingerprint(), note))
	err = n.RunWith(c.Context, s.run)
	closeHistory(c, s.rec)
	reportRejections(c.App.ErrWriter, eng.Stats())
	return err
}

// run is the chat while the node runs: it returns when input ends, the
// user quits, or ctx ends, after what was typed has gone out.
func (s *chatSession) run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var bg sync.WaitGroup
	// Presence and the engine run until the chat ends; either failing
	// (the network went away) ends the chat with its error.
	var presErr, engErr error
	bg.Go(func() {
		if presErr = s.pres.Run(ctx); presErr != nil {
			stop()
		}
	})
	bg.Go(func() {
		if engErr = s.eng.Run(ctx); engErr != nil {
			stop()
		}
	})
	bg.Go(func() { s.showPresence() })
	bg.Go(func() { s.showMessages() })

	lines := make(chan string)
	go s.ui.readLines(lines, ctx.Done()) // may stay blocked in Read until the input ends
	func() {
		for {
			select {
			case <-ctx.Done():
				return
			case line, ok := <-lines:
				if !ok || !s.handleLine(ctx, line) {
					return
				}
			}
		}
	}()
	inFlight := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(inFlight)
	}()
	select {
	case <-inFlight:
	case <-time.After(chatQuitGrace):
		stop() // the first round of every line is out; cut the rest short
		<-inFlight
	}
	stop()
	bg.Wait()
	return errors.Join(presErr, engErr)
}

// handleLine acts on one typed line; false means quit.
func (s *chatSession) handleLine(ctx context.Context, line string) bool {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return true
	}
	if strings.HasPrefix(line, "//") {
		s.post(ctx, line[1:])
		return true
	}
	if !strings.HasPrefix(line, "/") {
		s.post(ctx, line)
		return true
	}
	cmd, rest, _ := strings.Cut(line, " ")
	switch cmd {
	case "/quit", "/exit", "/q":
		return false
	case "/msg":
		ref, text, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if ref == "" || strings.TrimSpace(text) == "" {
			s.ui.println("usage: /msg PEER TEXT")
			return true
		}
		s.private(ctx, ref, text)
	case "/peers":
		s.showPeers()
	case "/trust":
		p, err := s.node.Trust.Trust(strings.TrimSpace(rest))
		if err != nil {
			s.ui.println(fmt.Sprintf("trust: %v", err))
			return true
		}
		s.ui.println(fmt.Sprintf("trusted %s (%s); its owner's 'herald id' must show this fingerprint", safeName(p.Name), p.Fingerprint))
	default:
		s.ui.println(chatHelp)
	}
	return true
}

// post sends a chat line in the background and shows it as sent.
func (s *chatSession) post(ctx context.Context, text string) {
	if err := message.CheckText(text); err != nil {
		s.ui.println(fmt.Sprintf("not sent: %v", err))
		return
	}
	s.background(ctx, func() {
		id, err := s.eng.Post(ctx, message.Post{Channel: s.channel, Text: text})
		if err != nil {
			s.ui.println(fmt.Sprintf("not sent: %v", err))
			return
		}
		e := outgoingEntry(s.node, history.KindChat, s.channel.Name, id, text)
		s.rec.Record(e)
		s.ui.println(formatEntry(e))
	})
}

// private sends /msg in the background and says when it was received.
func (s *chatSession) private(ctx context.Context, ref, text string) {
	if err := message.CheckText(text); err != nil {
		s.ui.println(fmt.Sprintf("not sent: %v", err))
		return
	}
	s.background(ctx, func() {
		peers, err := resolvePeers(ctx, s.node, []string{ref}, 0)
		if err != nil {
			s.ui.println(fmt.Sprintf("/msg %s: %v", ref, err))
			return
		}
		to := peers[0]
		id, err := s.eng.SendPrivate(ctx, message.Recipient{SignPub: to.SignPub, BoxPub: to.BoxPub}, text)
		e := outgoingEntry(s.node, history.KindPrivate, "", id, text)
		e.Peer, e.PeerName = to.Fingerprint, to.Name
		switch {
		case errors.Is(err, message.ErrNoReceipt):
			s.ui.println(fmt.Sprintf("%s  [no receipt: %s may be offline]", formatEntry(e), safeName(to.Name)))
		case err != nil:
			s.ui.println(fmt.Sprintf("/msg %s: %v", ref, err))
		default:
			s.rec.Record(e)
			s.ui.println(formatEntry(e) + "  [received]")
		}
	})
}

// background runs f with at most chatMaxSending running at once.
func (s *chatSession) background(ctx context.Context, f func()) {
	select {
	case s.sending <- struct{}{}:
	case <-ctx.Done():
		return
	}
	s.wg.Go(func() {
		defer func() { <-s.sending }()
		f()
	})
}

func (s *chatSession) showMessages() {
	for m := range s.eng.Messages() {
		e := entryOf(m)
		s.rec.Record(e)
		s.ui.println(formatEntry(e))
	}
}

func (s *chatSession) showPresence() {
	for ev := range s.pres.Events() {
		p := ev.Peer
		line := fmt.Sprintf("* %s (%s) %s", safeName(p.Label), p.Fingerprint, ev.Kind)
		if ev.Kind == presence.Changed {
			line += ": WARNING its name is bound to another key; it may be an impostor, its messages are refused"
		}
		s.ui.println(line)
	}
}

func (s *chatSession) showPeers() {
	peers := s.pres.Peers()
	if len(peers) == 0 {
		s.ui.println("no peers heard yet")
		return
	}
	var b strings.Builder
	for i, p := range peers {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "  %s (%s) %s", safeName(p.Label), p.Fingerprint, p.Trust)
	}
	s.ui.println(b.String())
}

// chatUI is the screen of a chat: message lines scroll above one input
// line. On a terminal in raw mode it edits the input line itself and
// redraws it after every message; otherwise it reads plain lines. Safe
// for concurrent use: println may be called from any goroutine.
type chatUI struct {
	in     io.Reader
	raw    bool
	width  func() int // terminal columns, 0 when unknown
	prompt string

	mu   sync.Mutex
	out  io.Writer
	line []rune // the input being typed (raw mode)
}

// newChatUI puts a terminal on in into raw mode (restore undoes it) or
// falls back to plain lines.
func newChatUI(in io.Reader, out io.Writer, prompt string) (*chatUI, func(), error) {
	ui := &chatUI{in: in, out: out, prompt: prompt, width: func() int { return 0 }}
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return ui, func() {}, nil
	}
	fd := int(f.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, nil, fmt.Errorf("chat: terminal raw mode: %w", err)
	}
	ui.raw = true
	ui.width = func() int {
		w, _, err := term.GetSize(fd)
		if err != nil {
			return 0
		}
		return w
	}
	ui.redraw()
	return ui, func() {
		ui.mu.Lock()
		fmt.Fprint(ui.out, "\r\x1b[K")
		ui.mu.Unlock()
		term.Restore(fd, state)
	}, nil
}

// println shows text above the input line, which is redrawn intact.
func (u *chatUI) println(text string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.raw {
		fmt.Fprintln(u.out, text)
		return
	}
	fmt.Fprint(u.out, "\r\x1b[K"+strings.ReplaceAll(text, "\n", "\r\n")+"\r\n")
	u.redrawLocked()
}

func (u *chatUI) redraw() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.redrawLocked()
}

// redrawLocked rewrites the input line; when it is wider than the
// terminal, its end is shown, where the cursor is.
func (u *chatUI) redrawLocked() {
	visible := u.line
	if w := u.width(); w > 0 {
		if room := w - utf8.RuneCountInString(u.prompt) - 1; room > 0 && len(visible) > room {
			visible = visible[len(visible)-room:]
		}
	}
	fmt.Fprint(u.out, "\r\x1b[K"+u.prompt+string(visible))
}

// readLines sends each line typed to lines and closes it at the end of
// input, Ctrl-C, or Ctrl-D on an empty line. It gives up on a line when
// quit is closed.
func (u *chatUI) readLines(lines chan<- string, quit <-chan struct{}) {
	defer close(lines)
	send := func(line string) bool {
		select {
		case lines <- line:
			return true
		case <-quit:
			return false
		}
	}
	if !u.raw {
		sc := bufio.NewScanner(u.in)
		sc.Buffer(make([]byte, 4096), protocol.MaxMessageLen+64)
		for sc.Scan() {
			if !send(sc.Text()) {
				return
			}
		}
		return
	}
	var ed lineEditor
	buf := make([]byte, 256)
	for {
		n, err := u.in.Read(buf)
		for _, b := range buf[:n] {
			u.mu.Lock()
			action := ed.feed(b, &u.line)
			line := string(u.line)
			if action == editSubmit {
				u.line = u.line[:0]
			}
			u.redrawLocked()
			u.mu.Unlock()
			if action == editQuit || action == editSubmit && !send(line) {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Results of feeding one byte to the line editor.
const (
	editNone = iota
	editSubmit
	editQuit
)

// lineEditor turns raw terminal bytes into edits of one line: runes are
// appended (up to protocol.MaxMessageLen bytes), Backspace deletes one,
// Ctrl-U clears, Enter submits, Ctrl-C or Ctrl-D on an empty line quits,
// and escape sequences (arrow keys and the like) are skipped.
type lineEditor struct {
	pending []byte // bytes of an incomplete UTF-8 rune
	esc     int    // 0 none, 1 after ESC, 2 inside a CSI/SS3 sequence
	size    int    // UTF-8 bytes in the line
}

func (ed *lineEditor) feed(b byte, line *[]rune) int {
	switch ed.esc {
	case 1:
		ed.esc = 0
		if b == '[' || b == 'O' {
			ed.esc = 2
		}
		return editNone
	case 2:
		if b >= 0x40 && b <= 0x7e {
			ed.esc = 0
		}
		return editNone
	}
	switch b {
	case '\r', '\n':
		ed.size = 0
		return editSubmit
	case 0x03:
		return editQuit
	case 0x04:
		if len(*line) == 0 {
			return editQuit
		}
		return editNone
	case 0x7f, 0x08:
		if n := len(*line); n > 0 {
			ed.size -= utf8.RuneLen((*line)[n-1])
			*line = (*line)[:n-1]
		}
		return editNone
	case 0x15:
		*line = (*line)[:0]
		ed.size = 0
		return editNone
	case 0x1b:
		ed.esc = 1
		return editNone
	}
	if b < 0x20 {
		return editNone
	}
	ed.pending = append(ed.pending, b)
	if !utf8.FullRune(ed.pending) {
		if len(ed.pending) >= utf8.UTFMax {
			ed.pending = ed.pending[:0]
		}
		return editNone
	}
	r, _ := utf8.DecodeRune(ed.pending)
	ed.pending = ed.pending[:0]
	if r != utf8.RuneError && ed.size+utf8.RuneLen(r) <= protocol.MaxMessageLen {
		*line = append(*line, r)
		ed.size += utf8.RuneLen(r)
	}
	return editNone
}
