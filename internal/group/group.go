// Package group runs functions side by side and waits for all of them,
// so every goroutine a command starts has an owner that sees its error.
package group

import (
	"context"
	"sync"
)

// Run calls every fn in its own goroutine with a context that is
// cancelled as soon as any of them returns, or when ctx ends. It waits
// for all of them and returns the first non-nil error in the order they
// returned. A function that is only background work (presence beacons,
// a message engine) therefore stops when the main one finishes, and its
// clean-up (a leaving beacon, a final save) completes before Run
// returns.
func Run(ctx context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, fn := range fns {
		wg.Go(func() {
			if err := fn(ctx); err != nil {
				once.Do(func() { first = err })
			}
			cancel()
		})
	}
	wg.Wait()
	return first
}
