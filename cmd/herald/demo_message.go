package main

import (
	"context"
	"errors"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/termui"
	"github.com/herald-lan/herald/message"
)

// demoAnnounce has alice announce to the open channel and waits until bob
// shows it with alice's verified fingerprint, then bob answers privately.
func demoAnnounce(ctx context.Context, env *demoEnv) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	engines := map[string]*message.Engine{}
	for _, p := range []*demoPeer{env.Alice, env.Bob} {
		e, err := message.New(message.Config{Node: p.Node, Peers: p.Presence})
		if err != nil {
			return err
		}
		go e.Run(ctx)
		engines[p.Name] = e
	}
	text := "class starts in 5 minutes"
	env.Logf("alice announces on the open channel: %q", text)
	if _, err := engines["alice"].Post(ctx, message.Post{Channel: identity.OpenChannel(), Text: text, Announce: true}); err != nil {
		return err
	}
	if err := demoAwait(ctx, env, engines["bob"], text); err != nil {
		return err
	}
	reply := "on my way"
	env.Logf("bob sends alice a private message, sealed to her key: %q", reply)
	sent := make(chan error, 1)
	go func() {
		_, err := engines["bob"].SendPrivate(ctx, message.Recipient{SignPub: env.Alice.Node.ID.SignPub, BoxPub: env.Alice.Node.ID.BoxPub}, reply)
		sent <- err
	}()
	if err := demoAwait(ctx, env, engines["alice"], reply); err != nil {
		return err
	}
	if err := <-sent; err != nil {
		return err
	}
	env.Logf("bob got alice's sealed receipt")
	return nil
}

// demoAwait waits for text at e and shows it as a listener would.
func demoAwait(ctx context.Context, env *demoEnv, e *message.Engine, text string) error {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-e.Messages():
			if m.Text == text {
				kind := "announcement"
				if m.Private {
					kind = "private message"
				}
				env.Logf("%s from %s (%s, signature verified): %q", kind, termui.OrDash(m.Sender), m.Fingerprint, m.Text)
				return nil
			}
		case <-timeout:
			return errors.New("message did not arrive in 10 s")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
