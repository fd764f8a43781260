package webui

import "sync"

// Sections of the page's state; each is sent whole when it changed,
// except messages, which are sent from the last one a page has.
const (
	sectionMe       = "me"
	sectionRoom     = "room"
	sectionSends    = "sends"
	sectionInbox    = "inbox"
	sectionChannels = "channels"
	sectionMessages = "messages"
)

var sections = []string{sectionMe, sectionRoom, sectionSends, sectionInbox, sectionChannels, sectionMessages}

// hub counts changes per section and wakes the event streams. Safe for
// concurrent use; touch never blocks, so engines may call it from their
// event callbacks.
type hub struct {
	mu       sync.Mutex
	version  uint64
	changed  map[string]uint64 // section -> version of its last change
	watchers map[chan struct{}]bool
}

func newHub() *hub {
	h := &hub{changed: map[string]uint64{}, watchers: map[chan struct{}]bool{}}
	for _, sec := range sections {
		h.changed[sec] = 1
	}
	h.version = 1
	return h
}

// touch records a change of section and wakes every stream.
func (h *hub) touch(section string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.version++
	h.changed[section] = h.version
	for w := range h.watchers {
		select {
		case w <- struct{}{}:
		default: // already woken
		}
	}
}

// since lists the sections changed after version seen, and the version
// now.
func (h *hub) since(seen uint64) ([]string, uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, sec := range sections {
		if h.changed[sec] > seen {
			out = append(out, sec)
		}
	}
	return out, h.version
}

// watch returns a channel woken (capacity one) after each change.
func (h *hub) watch() (<-chan struct{}, func()) {
	w := make(chan struct{}, 1)
	h.mu.Lock()
	h.watchers[w] = true
	h.mu.Unlock()
	return w, func() {
		h.mu.Lock()
		delete(h.watchers, w)
		h.mu.Unlock()
	}
}
