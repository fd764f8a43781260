package webui

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
)

// meView is this node as the board shows it.
type meView struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Dir         string `json:"dir"`
	AcceptAny   bool   `json:"accept_any"`
	MaxUpload   int64  `json:"max_upload"`
}

// peerView is one row of the Room.
type peerView struct {
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"`
	Trust       string    `json:"trust"` // seen, trusted, changed
	Addr        string    `json:"addr"`
	LastSeen    time.Time `json:"last_seen"`
	Receives    bool      `json:"receives"` // runs a receiver (push target)
	Listens     bool      `json:"listens"`  // shows messages
}

func (s *Server) meView() meView {
	return meView{Name: s.node.ID.Name, Fingerprint: s.node.ID.Fingerprint(), Dir: s.cfg.Dir,
		AcceptAny: s.cfg.AcceptAny, MaxUpload: s.cfg.MaxUpload}
}

func (s *Server) roomView() []peerView {
	peers := s.pres.Peers()
	out := make([]peerView, 0, len(peers))
	for _, p := range peers {
		out = append(out, peerView{Name: p.Label, Fingerprint: p.Fingerprint, Trust: p.Trust.String(),
			Addr: p.Addr.Addr().String(), LastSeen: p.LastSeen,
			Receives: p.Offers&protocol.OfferReceive != 0, Listens: p.Offers&protocol.OfferListen != 0})
	}
	return out
}

// trustRequest trusts or untrusts a peer by its full fingerprint: the
// page never trusts by name, which a stranger can claim.
type trustRequest struct {
	Fingerprint string `json:"fingerprint"`
	Trusted     bool   `json:"trusted"`
}

func (s *Server) serveTrust(w http.ResponseWriter, r *http.Request) {
	var req trustRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !fullFingerprint(req.Fingerprint) {
		replyError(w, http.StatusBadRequest, errors.New("trust takes a peer's full fingerprint"))
		return
	}
	op := s.node.Trust.Untrust
	if req.Trusted {
		op = s.node.Trust.Trust
	}
	p, err := op(req.Fingerprint)
	if err != nil {
		replyError(w, http.StatusBadRequest, fmt.Errorf("%w (the peer must have been seen on the LAN)", err))
		return
	}
	s.hub.touch(sectionRoom)
	reply(w, map[string]any{"name": p.Name, "fingerprint": p.Fingerprint, "trusted": p.Trusted})
}

// fullFingerprint reports whether fp has identity.Fingerprint's shape:
// five groups of four symbols.
func fullFingerprint(fp string) bool {
	if len(fp) != 24 {
		return false
	}
	for i, c := range fp {
		switch {
		case i%5 == 4:
			if c != '-' {
				return false
			}
		case c >= '0' && c <= '9' || c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return true
}

// peerByFingerprint finds a live peer's keys for sealing to it. A peer
// whose key changed is refused: sealing to a possible impostor is what
// the warning is for.
func (s *Server) peerByFingerprint(fp string) (identity.Peer, error) {
	for _, p := range s.pres.Peers() {
		if p.Fingerprint != fp {
			continue
		}
		if p.Trust == presence.TrustChanged {
			return identity.Peer{}, fmt.Errorf("%s (%s): key changed; refusing to seal to it", p.Name, fp)
		}
		return identity.Peer{Name: p.Name, SignPub: p.SignPub, BoxPub: p.BoxPub, Fingerprint: p.Fingerprint}, nil
	}
	return identity.Peer{}, fmt.Errorf("peer %s is not on the LAN now", fp)
}
