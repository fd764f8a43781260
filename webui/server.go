package webui

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/herald-lan/herald/history"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
)

// Server is one herald ui: a node's engines and the page that drives
// them. Safe for concurrent use; Run must be called once.
type Server struct {
	cfg   Config
	node  *node.Node
	pres  *presence.Presence
	rec   *history.Recorder
	log   *slog.Logger
	hub   *hub
	msgs  *messenger
	jobs  *sendJobs
	inbox *inbox

	listeners []net.Listener
	hosts     map[string]bool // Host header values the page is reached by
	origin    string          // the page's own origin
	url       string          // one-time URL

	token     string      // in the one-time URL
	tokenUsed atomic.Bool // the URL works once
	session   string      // cookie value the token is traded for

	ran  atomic.Bool
	wg   sync.WaitGroup
	ctx  context.Context // Run's; background work started by requests uses it
	stop context.CancelFunc
}

// New binds the listening sockets, so URL is known before Run.
func New(cfg Config) (*Server, error) {
	if cfg.Node == nil || cfg.Dir == "" {
		return nil, fmt.Errorf("%w: Node and Dir are required", ErrConfig)
	}
	if st, err := os.Stat(cfg.Dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: receive folder %q is not a folder", ErrConfig, cfg.Dir)
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, node: cfg.Node, log: cfg.Logger, hub: newHub(),
		token: randomToken(), session: randomToken()}
	if err := s.bind(cfg.Listen); err != nil {
		return nil, err
	}
	s.pres = presence.New(cfg.Node, protocol.OfferReceive|protocol.OfferListen)
	s.rec = history.NewRecorder(historyPath(cfg.Node), cfg.Node.Logger)
	var err error
	if s.msgs, err = newMessenger(s); err != nil {
		return nil, err
	}
	s.jobs = &sendJobs{s: s}
	s.inbox = &inbox{s: s}
	return s, nil
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// bind listens on listen, or on 127.0.0.1 and ::1 sharing a free port.
func (s *Server) bind(listen string) error {
	if listen == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		s.listeners = append(s.listeners, l)
		port := l.Addr().(*net.TCPAddr).Port
		if l6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
			s.listeners = append(s.listeners, l6) // no IPv6 loopback is fine
		}
		s.setHosts("127.0.0.1", port)
		return nil
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("%w: --listen %q: %v", ErrConfig, listen, err)
	}
	s.listeners = append(s.listeners, l)
	ap := l.Addr().(*net.TCPAddr).AddrPort()
	host := ap.Addr().Unmap().String()
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" {
		host = h // a name the user chose is what the browser sends
	}
	s.setHosts(host, int(ap.Port()))
	return nil
}

// setHosts records the Host values the page may be reached by: the
// address served and, on loopback, the loopback names. On an
// unspecified address (0.0.0.0, ::) that is every address of this
// machine's interfaces, and the printed URL uses loopback.
func (s *Server) setHosts(host string, port int) {
	p := strconv.Itoa(port)
	main := net.JoinHostPort(host, p)
	s.hosts = map[string]bool{main: true}
	a, err := netip.ParseAddr(host)
	if err == nil && a.IsUnspecified() {
		main = net.JoinHostPort("127.0.0.1", p)
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, ad := range addrs {
				if ipn, ok := ad.(*net.IPNet); ok {
					s.hosts[net.JoinHostPort(ipn.IP.String(), p)] = true
				}
			}
		}
	}
	if err == nil && (a.IsLoopback() || a.IsUnspecified()) {
		for _, h := range []string{"127.0.0.1", "::1", "localhost"} {
			s.hosts[net.JoinHostPort(h, p)] = true
		}
	}
	s.origin = "http://" + main
	s.url = s.origin + "/?token=" + s.token
}

// URL is the one-time address that opens the page.
func (s *Server) URL() string { return s.url }

// Loopback reports whether the server listens on loopback only.
func (s *Server) Loopback() bool {
	for _, l := range s.listeners {
		if !l.Addr().(*net.TCPAddr).AddrPort().Addr().IsLoopback() {
			return false
		}
	}
	return true
}

// Run serves the page and runs the engines until ctx ends. The node must
// be running (Node.RunWith(ctx, server.Run)).
func (s *Server) Run(ctx context.Context) error {
	if s.ran.Swap(true) {
		return errors.New("webui: Run called twice")
	}
	ctx, s.stop = context.WithCancel(ctx)
	s.ctx = ctx
	defer s.stop()
	srv := &http.Server{Handler: s.Handler(), BaseContext: func(net.Listener) context.Context { return ctx }}
	errs := make(chan error, len(s.listeners)+2)
	s.wg.Go(func() { s.watchPresence(ctx) })
	s.wg.Go(func() { errs <- s.msgs.run(ctx) })
	s.wg.Go(func() { errs <- s.inbox.run(ctx) })
	var serving sync.WaitGroup
	for _, l := range s.listeners {
		serving.Go(func() {
			if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				errs <- err
			}
		})
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
		s.stop()
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	srv.Shutdown(shut)
	serving.Wait()
	s.wg.Wait()
	s.jobs.wait()
	if cerr := s.rec.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// watchPresence runs presence and tells pages when the room changes.
func (s *Server) watchPresence(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.pres.Run(ctx); err != nil {
			s.log.Warn("herald ui: presence stopped", "err", err)
		}
	}()
	for range s.pres.Events() {
		s.hub.touch(sectionRoom)
	}
	<-done
}

// Handler is the page and its API behind the guard.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /", staticHandler())
	mux.HandleFunc("GET /api/events", s.serveEvents)
	mux.HandleFunc("POST /api/send", s.serveSend)
	mux.HandleFunc("POST /api/send/cancel", s.serveCancel)
	mux.HandleFunc("POST /api/message", s.serveMessage)
	mux.HandleFunc("GET /api/history", s.serveHistory)
	mux.HandleFunc("POST /api/trust", s.serveTrust)
	mux.HandleFunc("POST /api/channel", s.serveChannel)
	mux.HandleFunc("GET /api/channel/qr", s.serveChannelQR)
	mux.HandleFunc("GET /api/file", s.serveFile)
	return s.guard(mux)
}
