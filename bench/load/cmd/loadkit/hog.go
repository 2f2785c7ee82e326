package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// hogCmd makes the machine slow on purpose: after -after it keeps -threads
// threads busy for -for, at the same priority as the server and the load
// generator, so that they get a share of the CPUs each and a backlog
// builds as it does when this virtual machine runs slow on its own. The
// soak (run.sh, SOAK_STALL) uses it to put a slow phase where it wants one,
// instead of waiting for the machine to have one.
func hogCmd(args []string) error {
	fs := flag.NewFlagSet("hog", flag.ContinueOnError)
	after := fs.Duration("after", 0, "wait this long before starting")
	busy := fs.Duration("for", time.Minute, "how long to keep the threads busy")
	threads := fs.Int("threads", runtime.NumCPU(), "busy threads")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *threads < 1 || *busy <= 0 || *after < 0 {
		return fmt.Errorf("-threads must be at least 1, -for positive and -after not negative")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(*after):
	}
	fmt.Fprintf(os.Stderr, "loadkit hog: %d busy threads for %s\n", *threads, *busy)
	ctx, cancel := context.WithTimeout(ctx, *busy)
	defer cancel()
	spin(ctx, *threads)
	return nil
}

// spin keeps n OS threads on the CPU until ctx is done.
func spin(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			runtime.LockOSThread()
			for x := uint64(1); ; x++ {
				// Looking at the context is cheap next to a million steps
				// of arithmetic, and keeps the loop from being optimised
				// away.
				if x%(1<<20) == 0 && ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
}
