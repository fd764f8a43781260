package webui

import (
	"encoding/json"
	"net/http"
	"time"
)

// updateEvery is the least time between two updates to one page.
const updateEvery = time.Second / MaxUpdatesPerSecond

// keepAliveEvery sends a comment on an idle stream, so a proxy or the
// browser notices a dead connection.
const keepAliveEvery = 20 * time.Second

// update is one server-sent event: the sections that changed since the
// page's last update. Messages holds only messages new or changed since.
type update struct {
	Me       *meView         `json:"me,omitempty"`
	Room     []peerView      `json:"room,omitempty"`
	Sends    []sendView      `json:"sends,omitempty"`
	Inbox    []inboxView     `json:"inbox,omitempty"`
	Channels []channelView   `json:"channels,omitempty"`
	Messages []messageView   `json:"messages,omitempty"`
	Sections map[string]bool `json:"sections"` // which of the above are present (an empty list is news too)
}

// serveEvents streams updates to one page until it goes away. Changes
// are coalesced: after an update the stream waits updateEvery before
// looking again, however many changes came meanwhile.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	wake, unwatch := s.hub.watch()
	defer unwatch()
	var seen, msgSeq uint64
	keepAlive := time.NewTicker(keepAliveEvery)
	defer keepAlive.Stop()
	ctx := r.Context()
	for {
		secs, version := s.hub.since(seen)
		if len(secs) > 0 {
			u := s.build(secs, &msgSeq)
			b, err := json.Marshal(u)
			if err != nil {
				return
			}
			if _, err := w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
				return
			}
			flusher.Flush()
			seen = version
			select { // coalesce: nothing more for updateEvery
			case <-ctx.Done():
				return
			case <-time.After(updateEvery):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-keepAlive.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

// build collects the sections named; msgSeq is the last message the page
// has, advanced past those included.
func (s *Server) build(secs []string, msgSeq *uint64) update {
	u := update{Sections: map[string]bool{}}
	for _, sec := range secs {
		u.Sections[sec] = true
		switch sec {
		case sectionMe:
			me := s.meView()
			u.Me = &me
		case sectionRoom:
			u.Room = s.roomView()
		case sectionSends:
			u.Sends = s.jobs.view()
		case sectionInbox:
			u.Inbox = s.inbox.view()
		case sectionChannels:
			u.Channels = s.channelsView()
		case sectionMessages:
			u.Messages, *msgSeq = s.msgs.since(*msgSeq)
		}
	}
	return u
}
