package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/herald-lan/herald/push"
)

// sendOptions is the Send panel's form, the upload's first part.
type sendOptions struct {
	Channel      string   `json:"channel"`       // "" = default channel
	To           []string `json:"to"`            // full fingerprints; seal to them only
	MinReceivers int      `json:"min_receivers"` // wait for and require this many
	NoEncrypt    bool     `json:"no_encrypt"`    // open channel, readable by anyone
	WaitSeconds  int      `json:"wait_seconds"`  // how long to wait for receivers (default 10)
}

// sendView is one push from the page, for its live table.
type sendView struct {
	ID        string                `json:"id"`
	Names     []string              `json:"names"`
	Files     int                   `json:"files"`
	Total     int64                 `json:"total"`
	Target    string                `json:"target"` // "#channel" or recipient names
	Status    string                `json:"status"` // waiting, sending, done, partial, failed, cancelled
	Sent      int64                 `json:"sent"`
	Rate      float64               `json:"rate"`
	Loss      float64               `json:"loss"`
	Repair    int64                 `json:"repair"`
	Receivers []push.ReceiverReport `json:"receivers"`
	Report    *reportView           `json:"report,omitempty"`
	Error     string                `json:"error,omitempty"`
	Started   time.Time             `json:"started"`
}

// reportView is the final word of a push, as `herald push` prints it.
type reportView struct {
	Seconds   float64 `json:"seconds"`
	WireBytes int64   `json:"wire_bytes"`
	Repair    int64   `json:"repair"`
	Expected  int     `json:"expected"`
	Completed int     `json:"completed"`
	OK        bool    `json:"ok"`
}

// sendJob is a push started from the page.
type sendJob struct {
	view   sendView
	cancel context.CancelFunc
}

// sendJobs runs the pushes started from the page. Safe for concurrent use.
type sendJobs struct {
	s       *Server
	mu      sync.Mutex
	jobs    []*sendJob
	next    int
	running sync.WaitGroup
}

// serveSend receives an upload and starts pushing it.
func (s *Server) serveSend(w http.ResponseWriter, r *http.Request) {
	up, err := receiveUpload(r, w, s.cfg.TempDir, s.cfg.MaxUpload)
	if err != nil {
		drain(r.Body)
		replyError(w, uploadStatus(err), err)
		return
	}
	id, err := s.jobs.start(up)
	if err != nil {
		os.RemoveAll(up.dir)
		replyError(w, http.StatusBadRequest, err)
		return
	}
	reply(w, map[string]string{"id": id})
}

// start checks the options, makes the push's source and runs it.
func (j *sendJobs) start(up *upload) (string, error) {
	s := j.s
	cfg, target, err := s.sendConfig(up.opts)
	if err != nil {
		return "", err
	}
	src, err := push.NewSource(up.tops)
	if err != nil {
		return "", err
	}
	cfg.Source = src
	ctx, cancel := context.WithCancel(s.ctx)
	j.mu.Lock()
	j.next++
	job := &sendJob{cancel: cancel, view: sendView{ID: strconv.Itoa(j.next), Files: up.files, Total: up.bytes,
		Target: target, Status: "waiting", Started: time.Now(), Receivers: []push.ReceiverReport{}}}
	for _, t := range up.tops {
		job.view.Names = append(job.view.Names, filepath.Base(t))
	}
	j.jobs = append(j.jobs, job)
	j.trimLocked()
	j.mu.Unlock()
	cfg.OnEvent = func(e push.Event) { j.event(job, e) }
	j.running.Go(func() {
		defer cancel()
		rep, err := push.Send(ctx, cfg)
		interrupted := ctx.Err() != nil && s.ctx.Err() == nil
		// The upload is gone before the page can read "done".
		src.Close()
		os.RemoveAll(up.dir)
		j.finish(job, rep, err, interrupted)
	})
	s.hub.touch(sectionSends)
	return job.view.ID, nil
}

// sendConfig turns the page's options into a push, with the CLI's rules.
func (s *Server) sendConfig(o sendOptions) (push.SendConfig, string, error) {
	cfg := push.SendConfig{Node: s.node, NoEncrypt: o.NoEncrypt, MinReceivers: o.MinReceivers, Wait: time.Duration(o.WaitSeconds) * time.Second}
	if o.MinReceivers < 0 || o.WaitSeconds < 0 || o.WaitSeconds > 3600 {
		return cfg, "", errors.New("minimum receivers and wait must not be negative; wait at most an hour")
	}
	for _, fp := range o.To {
		p, err := s.peerByFingerprint(fp)
		if err != nil {
			return cfg, "", err
		}
		cfg.Recipients = append(cfg.Recipients, p)
	}
	if len(cfg.Recipients) > 0 {
		names := ""
		for i, p := range cfg.Recipients {
			if i > 0 {
				names += ", "
			}
			names += p.Name
		}
		return cfg, names, nil
	}
	ch, err := s.pickChannel(o.Channel)
	if err != nil {
		return cfg, "", err
	}
	cfg.Channel = ch
	if ch.IsOpen() && !o.NoEncrypt {
		return cfg, "", push.ErrOpenChannel
	}
	return cfg, "#" + ch.Name, nil
}

// event is the push's OnEvent; it runs on the engine and only records.
func (j *sendJobs) event(job *sendJob, e push.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	v := &job.view
	switch e.Kind {
	case push.EventJoined:
		if !slices.ContainsFunc(v.Receivers, func(r push.ReceiverReport) bool { return r.Fingerprint == e.Sender }) {
			v.Receivers = append(v.Receivers, push.ReceiverReport{Name: e.Name, Fingerprint: e.Sender, Status: "joined"})
		}
	case push.EventProgress:
		v.Status, v.Sent, v.Rate, v.Loss, v.Repair = "sending", e.Bytes, e.Rate, e.Loss, e.Repair
		if e.Receivers != nil {
			v.Receivers = e.Receivers
		}
	}
	j.s.hub.touch(sectionSends)
}

func (j *sendJobs) finish(job *sendJob, rep *push.Report, err error, cancelled bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	v := &job.view
	switch {
	case cancelled:
		v.Status = "cancelled"
	case err != nil:
		v.Status = "failed"
	case rep.OK():
		v.Status = "done"
	default:
		v.Status = "partial"
	}
	if err != nil && !cancelled {
		v.Error = err.Error()
	}
	if rep != nil {
		v.Receivers = rep.Receivers
		v.Sent = rep.Bytes
		v.Report = &reportView{Seconds: rep.Elapsed.Seconds(), WireBytes: rep.WireBytes, Repair: rep.Repair,
			Expected: rep.Expected, Completed: rep.Completed, OK: rep.OK()}
		if !rep.OK() && err == nil && !cancelled {
			v.Error = fmt.Sprintf("%d of %d expected receivers completed", rep.Completed, max(rep.Expected, 1))
		}
	}
	job.cancel = nil
	j.s.hub.touch(sectionSends)
}

// trimLocked forgets the oldest finished jobs beyond maxSendJobs.
func (j *sendJobs) trimLocked() {
	for len(j.jobs) > maxSendJobs {
		i := slices.IndexFunc(j.jobs, func(job *sendJob) bool { return job.cancel == nil })
		if i < 0 {
			return
		}
		j.jobs = slices.Delete(j.jobs, i, i+1)
	}
}

func (j *sendJobs) view() []sendView {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]sendView, len(j.jobs))
	for i, job := range j.jobs {
		out[i] = job.view
		out[i].Receivers = slices.Clone(job.view.Receivers)
	}
	return out
}

func (j *sendJobs) wait() { j.running.Wait() }

// serveCancel stops a running push.
func (s *Server) serveCancel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID string `json:"id"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	s.jobs.mu.Lock()
	var cancel context.CancelFunc
	for _, job := range s.jobs.jobs {
		if job.view.ID == req.ID {
			cancel = job.cancel
		}
	}
	s.jobs.mu.Unlock()
	if cancel == nil {
		replyError(w, http.StatusNotFound, errors.New("no such push running"))
		return
	}
	cancel()
	w.WriteHeader(http.StatusAccepted)
}
