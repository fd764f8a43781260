package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/multicast"
)

// runEnv is what one run of the CLI shares beyond its flags: config.json
// as the app's Before loaded it, for the commands' own Before; and for
// tests and the demo, a simulated network to use instead of real UDP.
// It travels in the run's context under an unexported key, typed, since
// urfave/cli hands commands nothing else of ours.
type runEnv struct {
	network multicast.Network // nil: real UDP
	config  configValues
}

type runEnvKey struct{}

// withRunEnv gives ctx a runEnv unless it has one.
func withRunEnv(ctx context.Context) context.Context {
	if _, ok := ctx.Value(runEnvKey{}).(*runEnv); ok {
		return ctx
	}
	return context.WithValue(ctx, runEnvKey{}, &runEnv{})
}

// envOf is the run's environment; never nil.
func envOf(c *cli.Context) *runEnv {
	if c.Context != nil {
		if env, ok := c.Context.Value(runEnvKey{}).(*runEnv); ok {
			return env
		}
	}
	return &runEnv{}
}
