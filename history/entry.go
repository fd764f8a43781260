package history

import "time"

// Kinds of entry.
const (
	KindAnnounce = "announce"
	KindChat     = "chat"
	KindPrivate  = "private"
)

// Entry is one message as it was shown or sent. Entries are plain values.
type Entry struct {
	Time        time.Time `json:"time"`
	Kind        string    `json:"kind"`              // KindAnnounce, KindChat or KindPrivate
	Channel     string    `json:"channel,omitempty"` // channel name; empty for private messages
	Outgoing    bool      `json:"outgoing,omitempty"`
	Sender      string    `json:"sender"`              // sender's name as this node knows it
	Fingerprint string    `json:"fingerprint"`         // sender's fingerprint
	Trust       string    `json:"trust"`               // identity.TrustState of the sender when shown
	Peer        string    `json:"peer,omitempty"`      // private: the other party's fingerprint
	PeerName    string    `json:"peer_name,omitempty"` // private: the other party's name
	Priority    bool      `json:"priority,omitempty"`
	ID          string    `json:"id"` // message id, hex
	Text        string    `json:"text"`
}

// conversation is the bucket an entry is kept in.
func (e Entry) conversation() string {
	if e.Kind == KindPrivate {
		return privateConversation
	}
	return channelPrefix + e.Channel
}

// Query selects entries; zero fields select everything.
type Query struct {
	Channel string    // only this channel's conversation
	Peer    string    // only entries sent by, or privately exchanged with, this fingerprint
	Private bool      // only private messages
	Since   time.Time // only entries at or after this time
	Limit   int       // at most the newest Limit entries (0: no limit)
}

func (q Query) match(e Entry) bool {
	if q.Peer != "" && e.Fingerprint != q.Peer && e.Peer != q.Peer {
		return false
	}
	return !e.Time.Before(q.Since)
}
