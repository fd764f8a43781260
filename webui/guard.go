package webui

import (
	"crypto/subtle"
	"net/http"
)

// cookieName holds the session the one-time token is traded for.
const cookieName = "herald_session"

// contentSecurityPolicy lets the page run only its own script and
// style, and never be framed.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// guard checks every request before any handler sees it:
//   - Host must be an address this server is reached by: a page of
//     another site whose name was rebound to 127.0.0.1 sends its own
//     name and is refused (DNS rebinding);
//   - a request from another site, or from another port of this host
//     (same-site but not same-origin), is refused (Sec-Fetch-Site, and
//     Origin, which must be the Host just checked),
//     and one that changes state must carry this page's Origin;
//   - the one-time token of the URL is traded for the session cookie,
//     once; every other request must carry that cookie.
//
// No CORS header is ever written, so no other origin may read answers.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if !s.hosts[r.Host] {
			http.Error(w, "herald ui: unexpected Host header (open the address herald ui printed)", http.StatusMisdirectedRequest)
			return
		}
		origin := r.Header.Get("Origin")
		if origin != "" && origin != "http://"+r.Host || !fetchedByPage(r.Header.Get("Sec-Fetch-Site")) {
			http.Error(w, "herald ui: request from another site refused", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && origin == "" {
			http.Error(w, "herald ui: a change must come from the page (no Origin header)", http.StatusForbidden)
			return
		}
		if tok := r.URL.Query().Get("token"); tok != "" && r.URL.Path == "/" {
			s.tradeToken(w, r, tok)
			return
		}
		c, err := r.Cookie(cookieName)
		if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.session)) != 1 {
			http.Error(w, "herald ui: not signed in; open the address herald ui printed in the terminal (or restart it for a new one)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tradeToken sets the session cookie for the one-time token and sends
// the browser to the page without the token in its address bar.
func (s *Server) tradeToken(w http.ResponseWriter, r *http.Request, tok string) {
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 || s.tokenUsed.Swap(true) {
		http.Error(w, "herald ui: this address is wrong or was already used; restart herald ui for a new one", http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.session, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// fetchedByPage accepts the Sec-Fetch-Site values of the page itself, of
// an address typed or opened by the user, and of clients that send none.
func fetchedByPage(site string) bool {
	return site == "" || site == "same-origin" || site == "none"
}
