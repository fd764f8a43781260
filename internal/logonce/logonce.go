// Package logonce is a slog.Handler that says each warning once per
// process: the same condition met by every socket (a clamped receive
// buffer, say) then takes one line of a service's log, not one per
// socket.
package logonce

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// maxRemembered bounds the set of warnings already said; past it, new
// ones are printed again rather than remembered.
const maxRemembered = 1024

// Handler passes records to the next handler, dropping a record at
// level Warn or above whose message and attributes were already passed.
// Safe for concurrent use.
type Handler struct {
	next slog.Handler
	seen *seenSet
}

type seenSet struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

// New wraps next.
func New(next slog.Handler) *Handler {
	return &Handler{next: next, seen: &seenSet{keys: map[string]struct{}{}}}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn && !h.seen.first(key(r)) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler; the set of warnings said is shared.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), seen: h.seen}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), seen: h.seen}
}

func key(r slog.Record) string {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString("\x00" + a.String())
		return true
	})
	return b.String()
}

// first reports whether k is new, remembering it.
func (s *seenSet) first(k string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k]; ok {
		return false
	}
	if len(s.keys) < maxRemembered {
		s.keys[k] = struct{}{}
	}
	return true
}
