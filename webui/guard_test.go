package webui

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-lan/herald/multicast"
)

// get sends one request to the server with the given headers (and the
// session cookie when cookie is set) and returns the status.
func send(t *testing.T, r *room, method, path string, headers map[string]string, cookie bool) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, r.srv.origin+path, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if cookie {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: r.srv.session})
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestGuard(t *testing.T) {
	r := newRoom(t, Config{})
	origin := r.srv.origin
	cases := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		cookie  bool
		want    int
	}{
		{"signed in page", "GET", "/", nil, true, http.StatusOK},
		{"no cookie", "GET", "/", nil, false, http.StatusUnauthorized},
		{"no cookie on the API", "GET", "/api/history", nil, false, http.StatusUnauthorized},
		{"wrong cookie", "GET", "/api/history", map[string]string{"Cookie": cookieName + "=guess"}, false, http.StatusUnauthorized},
		{"wrong token", "GET", "/?token=AAAA", nil, false, http.StatusForbidden},
		{"rebinding Host", "GET", "/", map[string]string{"Host": "evil.example:" + portOf(origin)}, true, http.StatusMisdirectedRequest},
		{"rebinding Host, right name wrong port", "GET", "/", map[string]string{"Host": "127.0.0.1:1"}, true, http.StatusMisdirectedRequest},
		{"localhost Host", "GET", "/", map[string]string{"Host": "localhost:" + portOf(origin)}, true, http.StatusOK},
		{"foreign Origin", "POST", "/api/trust", map[string]string{"Origin": "http://evil.example"}, true, http.StatusForbidden},
		{"other port of this host", "POST", "/api/trust", map[string]string{"Origin": "http://127.0.0.1:1"}, true, http.StatusForbidden},
		{"cross-site fetch", "GET", "/api/history", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, http.StatusForbidden},
		{"same-site other origin", "GET", "/api/file?path=x", map[string]string{"Sec-Fetch-Site": "same-site"}, true, http.StatusForbidden},
		{"change without Origin", "POST", "/api/trust", nil, true, http.StatusForbidden},
		{"change from the page", "POST", "/api/trust", map[string]string{"Origin": origin, "Content-Type": "application/json"}, true, http.StatusBadRequest}, // reaches the handler: {} names no peer
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := send(t, r, c.method, c.path, c.headers, c.cookie)
			if resp.StatusCode != c.want {
				t.Errorf("%s %s: got %d, want %d", c.method, c.path, resp.StatusCode, c.want)
			}
			if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
				t.Errorf("CORS header sent: %q", v)
			}
			if resp.Header.Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy")
			}
		})
	}
}

func TestTokenWorksOnce(t *testing.T) {
	r := newRoom(t, Config{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(r.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use: %s", resp.Status)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Value == r.srv.token {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, not the URL's token", cookie)
	}
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "token") {
		t.Errorf("redirect keeps the token in the address bar: %s", loc)
	}
	resp, err = noRedirect.Get(r.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("second use of the one-time URL: %s, want 403", resp.Status)
	}
}

func portOf(origin string) string { return origin[strings.LastIndex(origin, ":")+1:] }

// TestListen: by default only loopback is served; --listen on every
// address is reported as not loopback (the CLI warns), its URL still
// names loopback, and the machine's addresses are accepted as Host.
func TestListen(t *testing.T) {
	n := testNode(t, multicast.NewMemNet(1), "alice")
	for _, tc := range []struct {
		listen   string
		loopback bool
	}{{"", true}, {"127.0.0.1:0", true}, {"0.0.0.0:0", false}} {
		s, err := New(Config{Node: n, Dir: t.TempDir(), Listen: tc.listen})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range s.listeners {
			l.Close()
		}
		if s.Loopback() != tc.loopback {
			t.Errorf("--listen %q: loopback %v, want %v", tc.listen, s.Loopback(), tc.loopback)
		}
		if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.Contains(s.URL(), "token=") {
			t.Errorf("--listen %q: URL %s", tc.listen, s.URL())
		}
		if !s.hosts[strings.TrimPrefix(s.origin, "http://")] {
			t.Errorf("--listen %q: the URL's own Host %s is refused", tc.listen, s.origin)
		}
	}
	if _, err := New(Config{Node: n, Dir: t.TempDir(), Listen: "127.0.0.1:http-nonsense"}); !errors.Is(err, ErrConfig) {
		t.Errorf("bad --listen: %v, want ErrConfig", err)
	}
}
