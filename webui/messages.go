package webui

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/message"
	"github.com/herald-lan/herald/protocol"
)

// messageView is one message on the page: a history entry, plus the
// delivery state of a private message this node sent.
type messageView struct {
	Seq uint64 `json:"seq"`
	Key string `json:"key"` // stable across updates of one message
	history.Entry
	Status string `json:"status,omitempty"` // outgoing private: sending, received, no receipt, failed
}

// messenger runs the message engine for the page and keeps the newest
// maxMessages messages. The engine follows the channel store as it
// changes (message.Config.Channels nil), so a channel joined here or in
// a terminal is heard at once. Safe for concurrent use.
type messenger struct {
	s       *Server
	eng     *message.Engine
	sending chan struct{} // semaphore of maxSending

	mu       sync.Mutex
	items    []messageView // oldest first
	seq      uint64
	outgoing uint64
	shown    map[string]bool // keys of items, to show a message once
	channels string          // channelsKey the page was last told about
}

func newMessenger(s *Server) (*messenger, error) {
	eng, err := message.New(message.Config{Node: s.node, Peers: s.pres})
	if err != nil {
		return nil, err
	}
	return &messenger{s: s, eng: eng, sending: make(chan struct{}, maxSending), shown: map[string]bool{}}, nil
}

// channelsCheckEvery is how often the channel store is compared with
// what the page shows: `herald channel join` in a terminal while the
// page runs shows within this time.
const channelsCheckEvery = 2 * time.Second

// run receives messages until ctx ends, and tells the page when the
// channels change under it.
func (m *messenger) run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() {
		for msg := range m.eng.Messages() {
			e := history.FromMessage(msg)
			if m.add(messageView{Key: "in:" + e.Fingerprint + ":" + e.ID, Entry: e}) {
				m.s.rec.Record(e)
			}
		}
	})
	defer wg.Wait()
	m.channelsChanged()
	tick := time.NewTicker(channelsCheckEvery)
	defer tick.Stop()
	done := make(chan error, 1)
	go func() { done <- m.eng.Run(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if m.channelsChanged() {
				m.s.hub.touch(sectionChannels)
			}
		}
	}
}

// channelsChanged reports whether the joined channels (or the default)
// differ from when it was last called.
func (m *messenger) channelsChanged() bool {
	now := channelsKey(m.s)
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := now != m.channels
	m.channels = now
	return changed
}

// channelsKey names the joined channels and the default, in order.
func channelsKey(s *Server) string {
	var b strings.Builder
	b.WriteString(s.defaultChannel().Name)
	for _, ch := range s.node.Channels.List() {
		id := ch.ID()
		b.WriteString("," + ch.Name + ":" + hex.EncodeToString(id[:]))
	}
	return b.String()
}

// add shows a new message; false if its key was shown already.
func (m *messenger) add(v messageView) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shown[v.Key] {
		return false
	}
	m.seq++
	v.Seq = m.seq
	m.items = append(m.items, v)
	m.shown[v.Key] = true
	if len(m.items) > maxMessages {
		delete(m.shown, m.items[0].Key)
		m.items = m.items[1:]
	}
	m.s.hub.touch(sectionMessages)
	return true
}

// setStatus updates an outgoing message's delivery state.
func (m *messenger) setStatus(key, status string) {
	m.update(key, func(v *messageView) { v.Status = status })
}

// update changes a message the page shows and sends it again.
func (m *messenger) update(key string, change func(*messageView)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.items {
		if m.items[i].Key == key {
			m.seq++
			change(&m.items[i])
			m.items[i].Seq = m.seq
			m.s.hub.touch(sectionMessages)
			return
		}
	}
}

// since returns messages new or changed after seq, and the newest seq.
func (m *messenger) since(seq uint64) ([]messageView, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []messageView
	for _, v := range m.items {
		if v.Seq > seq {
			out = append(out, v)
		}
	}
	return out, m.seq
}

// messageRequest is a message typed on the page.
type messageRequest struct {
	Kind     string `json:"kind"` // chat, announce, private
	Channel  string `json:"channel"`
	To       string `json:"to"` // private: full fingerprint
	Text     string `json:"text"`
	Priority bool   `json:"priority"`
}

// serveMessage sends a message in the background: the page shows it at
// once (status "sending") and then as sent or failed.
func (s *Server) serveMessage(w http.ResponseWriter, r *http.Request) {
	var req messageRequest
	if !readJSON(w, r, &req) {
		return
	}
	if err := message.CheckText(req.Text); err != nil || strings.TrimSpace(req.Text) == "" {
		replyError(w, http.StatusBadRequest, fmt.Errorf("not sent: %w (at most %d bytes of UTF-8 text)", errors.Join(err, errors.New("empty or invalid text")), protocol.MaxMessageLen))
		return
	}
	eng := s.msgs.eng
	select {
	case s.msgs.sending <- struct{}{}:
	default:
		replyError(w, http.StatusTooManyRequests, errors.New("too many messages being sent; wait a moment"))
		return
	}
	release := func() { <-s.msgs.sending }
	switch req.Kind {
	case "chat", "announce":
		ch, err := s.pickChannel(req.Channel)
		if err != nil {
			release()
			replyError(w, http.StatusBadRequest, err)
			return
		}
		kind := history.KindChat
		if req.Kind == "announce" {
			kind = history.KindAnnounce
		}
		post := message.Post{Channel: ch, Text: req.Text, Announce: req.Kind == "announce", Priority: req.Priority && req.Kind == "announce"}
		e := history.Outgoing(s.node.ID, kind, ch.Name, protocol.MessageID{}, req.Text)
		e.Priority = post.Priority
		key := s.msgs.outgoingKey()
		s.msgs.add(messageView{Key: key, Entry: e, Status: "sending"})
		s.wg.Go(func() {
			defer release()
			id, err := eng.Post(s.ctx, post)
			if err != nil {
				s.msgs.setStatus(key, "failed: "+err.Error())
				return
			}
			e.ID = hex.EncodeToString(id[:])
			s.rec.Record(e)
			s.msgs.update(key, func(v *messageView) { v.ID, v.Status = e.ID, "" })
		})
	case "private":
		to, err := s.peerByFingerprint(req.To)
		if err != nil {
			release()
			replyError(w, http.StatusBadRequest, err)
			return
		}
		e := history.Outgoing(s.node.ID, history.KindPrivate, "", protocol.MessageID{}, req.Text)
		e.Peer, e.PeerName = to.Fingerprint, to.Name
		key := s.msgs.outgoingKey()
		s.msgs.add(messageView{Key: key, Entry: e, Status: "sending"})
		s.wg.Go(func() {
			defer release()
			id, err := eng.SendPrivate(s.ctx, message.Recipient{SignPub: to.SignPub, BoxPub: to.BoxPub}, req.Text)
			e.ID = hex.EncodeToString(id[:])
			switch {
			case errors.Is(err, message.ErrNoReceipt):
				s.msgs.setStatus(key, "no receipt: "+to.Name+" may be offline")
			case err != nil:
				s.msgs.setStatus(key, "failed: "+err.Error())
			default:
				s.rec.Record(e)
				s.msgs.update(key, func(v *messageView) { v.ID, v.Status = e.ID, "received" })
			}
		})
	default:
		release()
		replyError(w, http.StatusBadRequest, errors.New(`kind must be "chat", "announce" or "private"`))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (m *messenger) outgoingKey() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outgoing++
	return fmt.Sprintf("out:%d", m.outgoing)
}

// serveHistory searches the history store: ?q= (words in the text or
// sender), ?channel=, ?private=1, newest historyLimit matches.
func (s *Server) serveHistory(w http.ResponseWriter, r *http.Request) {
	q := history.Query{Private: r.URL.Query().Get("private") == "1"}
	if name := r.URL.Query().Get("channel"); name != "" {
		ch, err := s.pickChannel(name)
		if err != nil {
			replyError(w, http.StatusBadRequest, err)
			return
		}
		q.Channel = ch.Name
	}
	if d, err := time.ParseDuration(r.URL.Query().Get("since")); err == nil && d > 0 {
		q.Since = time.Now().Add(-d)
	}
	entries, err := history.Read(historyPath(s.node), q)
	if err != nil {
		replyError(w, http.StatusInternalServerError, err)
		return
	}
	words := strings.Fields(strings.ToLower(r.URL.Query().Get("q")))
	out := []history.Entry{}
	for i := len(entries) - 1; i >= 0 && len(out) < historyLimit; i-- {
		if matchesAll(entries[i], words) {
			out = append(out, entries[i])
		}
	}
	reply(w, out)
}

func matchesAll(e history.Entry, words []string) bool {
	hay := strings.ToLower(e.Text + " " + e.Sender + " " + e.PeerName + " " + e.Fingerprint)
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}
