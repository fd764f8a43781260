package webui

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/herald-lan/herald/push"
)

// inboxView is one push received (or offered) on this node.
type inboxView struct {
	Session     string    `json:"session"`
	Sender      string    `json:"sender"` // fingerprint
	Name        string    `json:"name"`
	Status      string    `json:"status"` // offered, refused, receiving, complete, failed
	Bytes       int64     `json:"bytes"`
	Total       int64     `json:"total"`
	Loss        float64   `json:"loss"`
	Paths       []string  `json:"paths,omitempty"` // placed, relative to the receive folder
	Reason      string    `json:"reason,omitempty"`
	Verified    bool      `json:"verified"` // every block matched the sender's signed hashes
	Started     time.Time `json:"started"`
	Updated     time.Time `json:"updated"`
	TrustSender bool      `json:"trust_sender,omitempty"` // refused for trust: the page offers to trust
}

// inbox runs the push receiver into the receive folder and keeps what
// it did for the page. Safe for concurrent use.
type inbox struct {
	s     *Server
	mu    sync.Mutex
	items []*inboxView // oldest first, at most maxInbox
}

func (in *inbox) run(ctx context.Context) error {
	cfg := push.ReceiveConfig{Node: in.s.node, Dir: in.s.cfg.Dir, AcceptAny: in.s.cfg.AcceptAny, OnEvent: in.event}
	err := push.Receive(ctx, cfg)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// event is the receiver's OnEvent: it runs on the engine, so it only
// updates a row and wakes the pages.
func (in *inbox) event(e push.Event) {
	in.mu.Lock()
	defer in.mu.Unlock()
	it := in.find(e.Session, e.Sender)
	if it == nil {
		it = &inboxView{Session: e.Session, Sender: e.Sender, Started: e.Time}
		in.items = append(in.items, it)
		if len(in.items) > maxInbox {
			in.items = slices.Delete(in.items, 0, 1)
		}
	}
	it.Updated = e.Time
	switch e.Kind {
	case push.EventOffered:
		it.Name, it.Total, it.Status = e.Name, e.Total, "offered"
	case push.EventRefused:
		it.Status, it.Reason = "refused", errText(e.Err)
		p, err := in.s.node.Trust.Resolve(e.Sender)
		it.TrustSender = err != nil || !p.Trusted // a full fingerprint can be trusted even if unheard
	case push.EventJoined:
		it.Status, it.Total = "receiving", e.Total
	case push.EventProgress:
		if e.Total > 0 {
			it.Bytes, it.Total, it.Loss = e.Bytes, e.Total, e.Loss
		}
	case push.EventComplete:
		it.Status, it.Bytes, it.Verified = "complete", e.Total, true
		it.Paths = it.Paths[:0]
		for _, p := range e.Paths { // relative to the receive folder; absolute in older engines
			if filepath.IsAbs(p) {
				if rel, err := filepath.Rel(in.s.cfg.Dir, p); err == nil {
					p = rel
				}
			}
			it.Paths = append(it.Paths, filepath.ToSlash(p))
		}
	case push.EventFailed:
		it.Status, it.Reason = "failed", errText(e.Err)
	}
	in.s.hub.touch(sectionInbox)
}

func (in *inbox) find(session, sender string) *inboxView {
	for _, it := range in.items {
		if it.Session == session && it.Sender == sender {
			return it
		}
	}
	return nil
}

func (in *inbox) view() []inboxView {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]inboxView, len(in.items))
	for i, it := range in.items {
		out[i] = *it
		out[i].Paths = slices.Clone(it.Paths)
	}
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// maxListing bounds the entries a folder listing returns.
const maxListing = 1000

// fileEntry is one entry of a received folder.
type fileEntry struct {
	Path string `json:"path"`
	Dir  bool   `json:"dir"`
	Size int64  `json:"size"`
}

// serveFile downloads ?path= (relative to the receive folder), or lists
// it when it is a folder. The path is opened through an os.Root on the
// receive folder, so "..", absolute paths and symbolic links that lead
// out of it fail; a file is always an attachment, never rendered in the
// page's origin.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	rel := r.URL.Query().Get("path")
	if rel == "" || !fs.ValidPath(rel) {
		replyError(w, http.StatusBadRequest, errors.New("path must be relative to the receive folder"))
		return
	}
	root, err := os.OpenRoot(s.cfg.Dir)
	if err != nil {
		replyError(w, http.StatusInternalServerError, err)
		return
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		replyError(w, http.StatusNotFound, errors.New("no such file in the receive folder"))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		replyError(w, http.StatusNotFound, err)
		return
	}
	if st.IsDir() {
		s.listFolder(w, root, rel)
		return
	}
	if !st.Mode().IsRegular() {
		replyError(w, http.StatusForbidden, errors.New("not a regular file"))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(rel)}))
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	io.Copy(w, f)
}

func (s *Server) listFolder(w http.ResponseWriter, root *os.Root, rel string) {
	out := []fileEntry{}
	err := fs.WalkDir(root.FS(), rel, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == rel {
			return err
		}
		if len(out) >= maxListing {
			return fs.SkipAll
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil // a link or device is not served, so not listed
		}
		e := fileEntry{Path: p, Dir: d.IsDir()}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			e.Size = info.Size()
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		replyError(w, http.StatusInternalServerError, err)
		return
	}
	reply(w, out)
}
