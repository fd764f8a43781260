package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/termui"
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
	node    *node.Node
	channel identity.Channel
	pres    *presence.Presence
	eng     *message.Engine
	rec     *history.Recorder
	ui      *termui.Screen
	sending chan struct{} // semaphore of chatMaxSending
	wg      sync.WaitGroup
}

// chatOptions are the flags of `herald chat`.
type chatOptions struct {
	Channel string // "" for the default channel
}

func chatOptionsFrom(c *cli.Context) (chatOptions, error) {
	return chatOptions{Channel: c.String("channel")}, needArgs(c, 0, "no arguments")
}

func runChat(c *cli.Context) error {
	o, err := chatOptionsFrom(c)
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	ch, err := pickChannel(n, o.Channel)
	if err != nil {
		return err
	}
	pres := presence.New(n, protocol.OfferListen)
	eng, err := message.New(message.Config{Node: n, Peers: pres, Channels: []identity.Channel{ch}})
	if err != nil {
		return err
	}
	ui, restore, err := termui.NewScreen(c.App.Reader, c.App.Writer, "#"+ch.Name+"> ", protocol.MaxMessageLen)
	if err != nil {
		return err
	}
	defer restore()
	s := &chatSession{node: n, channel: ch, pres: pres, eng: eng, rec: openHistory(n), ui: ui,
		sending: make(chan struct{}, chatMaxSending)}
	note := ""
	if ch.IsOpen() {
		note = "; " + openChannelNote
	}
	ui.Println(fmt.Sprintf("chatting on #%s as %s (%s)%s. /help for commands.", ch.Name, safeName(n.ID.Name), n.ID.Fingerprint(), note))
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
	go s.ui.ReadLines(lines, ctx.Done()) // may stay blocked in Read until the input ends
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
			s.ui.Println("usage: /msg PEER TEXT")
			return true
		}
		s.private(ctx, ref, text)
	case "/peers":
		s.showPeers()
	case "/trust":
		p, err := s.node.Trust.Trust(strings.TrimSpace(rest))
		if err != nil {
			s.ui.Println(fmt.Sprintf("trust: %v", err))
			return true
		}
		s.ui.Println(fmt.Sprintf("trusted %s (%s); its owner's 'herald id' must show this fingerprint", safeName(p.Name), p.Fingerprint))
	default:
		s.ui.Println(chatHelp)
	}
	return true
}

// post sends a chat line in the background and shows it as sent.
func (s *chatSession) post(ctx context.Context, text string) {
	if err := message.CheckText(text); err != nil {
		s.ui.Println(fmt.Sprintf("not sent: %v", err))
		return
	}
	s.background(ctx, func() {
		id, err := s.eng.Post(ctx, message.Post{Channel: s.channel, Text: text})
		if err != nil {
			s.ui.Println(fmt.Sprintf("not sent: %v", err))
			return
		}
		e := outgoingEntry(s.node, history.KindChat, s.channel.Name, id, text)
		s.rec.Record(e)
		s.ui.Println(e.Line())
	})
}

// private sends /msg in the background and says when it was received.
func (s *chatSession) private(ctx context.Context, ref, text string) {
	if err := message.CheckText(text); err != nil {
		s.ui.Println(fmt.Sprintf("not sent: %v", err))
		return
	}
	s.background(ctx, func() {
		peers, err := resolvePeers(ctx, s.node, []string{ref}, 0)
		if err != nil {
			s.ui.Println(fmt.Sprintf("/msg %s: %v", ref, err))
			return
		}
		to := peers[0]
		id, err := s.eng.SendPrivate(ctx, message.Recipient{SignPub: to.SignPub, BoxPub: to.BoxPub}, text)
		e := outgoingEntry(s.node, history.KindPrivate, "", id, text)
		e.Peer, e.PeerName = to.Fingerprint, to.Name
		switch {
		case errors.Is(err, message.ErrNoReceipt):
			s.ui.Println(fmt.Sprintf("%s  [no receipt: %s may be offline]", e.Line(), safeName(to.Name)))
		case err != nil:
			s.ui.Println(fmt.Sprintf("/msg %s: %v", ref, err))
		default:
			s.rec.Record(e)
			s.ui.Println(e.Line() + "  [received]")
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
		s.ui.Println(e.Line())
	}
}

func (s *chatSession) showPresence() {
	for ev := range s.pres.Events() {
		p := ev.Peer
		line := fmt.Sprintf("* %s (%s) %s", safeName(p.Label), p.Fingerprint, ev.Kind)
		if ev.Kind == presence.Changed {
			line += ": WARNING its name is bound to another key; it may be an impostor, its messages are refused"
		}
		s.ui.Println(line)
	}
}

func (s *chatSession) showPeers() {
	peers := s.pres.Peers()
	if len(peers) == 0 {
		s.ui.Println("no peers heard yet")
		return
	}
	var b strings.Builder
	for i, p := range peers {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "  %s (%s) %s", safeName(p.Label), p.Fingerprint, p.Trust)
	}
	s.ui.Println(b.String())
}
