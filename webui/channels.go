package webui

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/joinqr"
)

// channelView is one channel of the Channels panel. The join code is a
// secret, sent only to the page (which shows it on request).
type channelView struct {
	Name     string `json:"name"`
	ID       string `json:"id"`
	Default  bool   `json:"default"`
	Open     bool   `json:"open"`
	JoinCode string `json:"join_code,omitempty"`
}

func (s *Server) channelsView() []channelView {
	def := s.defaultChannel().Name
	chans := append(s.node.Channels.List(), identity.OpenChannel())
	out := make([]channelView, 0, len(chans))
	for _, ch := range chans {
		id := ch.ID()
		v := channelView{Name: ch.Name, ID: hex.EncodeToString(id[:]), Default: ch.Name == def, Open: ch.IsOpen()}
		if !ch.IsOpen() {
			v.JoinCode = ch.JoinCode()
		}
		out = append(out, v)
	}
	return out
}

// channelRequest is one action of the Channels panel: "new" NAME, "join"
// CODE (or NAME and Passphrase), "default" NAME, "leave" NAME.
type channelRequest struct {
	Action     string `json:"action"`
	Name       string `json:"name"`
	Code       string `json:"code"`
	Passphrase string `json:"passphrase"`
}

func (s *Server) serveChannel(w http.ResponseWriter, r *http.Request) {
	var req channelRequest
	if !readJSON(w, r, &req) {
		return
	}
	ch, err := s.changeChannel(req)
	if err != nil {
		replyError(w, http.StatusBadRequest, err)
		return
	}
	s.hub.touch(sectionChannels)
	out := map[string]string{"name": ch.Name}
	if req.Action == "new" {
		out["join_code"] = ch.JoinCode()
	}
	reply(w, out)
}

// serveChannelQR draws the join code of a joined channel (?name=) as an
// SVG QR code, the same code `herald channel new --qr` prints. Like the
// code itself, it goes only to the signed-in page.
func (s *Server) serveChannelQR(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.node.Channels.Get(r.URL.Query().Get("name"))
	if !ok || ch.IsOpen() {
		replyError(w, http.StatusNotFound, fmt.Errorf("%w: %q", identity.ErrUnknownChannel, r.URL.Query().Get("name")))
		return
	}
	svg, err := joinqr.SVG(ch.JoinCode())
	if err != nil {
		replyError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Write(svg)
}

func (s *Server) changeChannel(req channelRequest) (identity.Channel, error) {
	switch req.Action {
	case "new": // as `herald channel new`: the channel created becomes the default
		ch, err := identity.NewChannel(req.Name, s.node.ID.Fingerprint())
		if err != nil {
			return ch, err
		}
		if err := s.node.Channels.Add(ch); err != nil {
			return ch, err
		}
		return ch, s.node.Channels.MakeDefault(ch.Name)
	case "default":
		ch, ok := s.node.Channels.Get(req.Name)
		if !ok || ch.IsOpen() {
			return ch, fmt.Errorf("%w: %q", identity.ErrUnknownChannel, req.Name)
		}
		return ch, s.node.Channels.MakeDefault(ch.Name)
	case "join":
		var ch identity.Channel
		var err error
		if req.Passphrase != "" {
			var name string
			if name, err = identity.NormalizeChannelName(req.Name); err != nil {
				return ch, err
			}
			ch = identity.ChannelFromPassphrase(name, req.Passphrase)
		} else if ch, err = identity.ParseJoinCode(req.Code); err != nil {
			return ch, err
		}
		return ch, s.node.Channels.Add(ch)
	case "leave":
		ch, ok := s.node.Channels.Get(req.Name)
		if !ok || ch.IsOpen() {
			return ch, fmt.Errorf("%w: %q", identity.ErrUnknownChannel, req.Name)
		}
		return ch, s.node.Channels.Remove(ch.Name)
	}
	return identity.Channel{}, errors.New(`action must be "new", "join", "default" or "leave"`)
}

// defaultChannel is Config.Channel while it is joined, else the node's
// default channel.
func (s *Server) defaultChannel() identity.Channel {
	if ch, ok := s.node.Channels.Get(s.cfg.Channel); ok && s.cfg.Channel != "" {
		return ch
	}
	return s.node.Channels.Default()
}

// pickChannel is the named channel, or the default one for "".
func (s *Server) pickChannel(name string) (identity.Channel, error) {
	if name == "" {
		return s.defaultChannel(), nil
	}
	ch, ok := s.node.Channels.Get(name)
	if !ok {
		return ch, fmt.Errorf("%w: %q (join it in Channels)", identity.ErrUnknownChannel, name)
	}
	return ch, nil
}
