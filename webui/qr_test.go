package webui

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/joinqr"
)

// TestChannelQR: the page's QR image is the join code's (joinqr, as the
// terminal's), and only joined, non-open channels have one.
func TestChannelQR(t *testing.T) {
	r := newRoom(t, Config{})
	ch, err := identity.NewChannel("lab", r.alice.ID.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.alice.Channels.Add(ch); err != nil {
		t.Fatal(err)
	}
	get := func(name string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.srv.serveChannelQR(w, httptest.NewRequest(http.MethodGet, "/api/channel/qr?name="+name, nil))
		return w
	}
	want, err := joinqr.SVG(ch.JoinCode())
	if err != nil {
		t.Fatal(err)
	}
	if w := get("LAB"); w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/svg+xml" || !bytes.Equal(w.Body.Bytes(), want) {
		t.Fatalf("lab: %d %q, body is the join code's QR: %v", w.Code, w.Header().Get("Content-Type"), bytes.Equal(w.Body.Bytes(), want))
	}
	for _, name := range []string{"nosuch", "open", ""} {
		if w := get(name); w.Code != http.StatusNotFound {
			t.Errorf("%q: %d, want 404", name, w.Code)
		}
	}
}
