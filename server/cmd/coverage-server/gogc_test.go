package main

import (
	"context"
	"runtime/debug"
	"testing"
)

// TestGOGC: --gogc sets the collector's target; without it, $GOGC does, and
// without either, defaultGOGC.
func TestGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, c := range []struct {
		env  string
		want int
	}{{"", defaultGOGC}, {"300", 300}, {"off", -1}, {"not a number", defaultGOGC}} {
		t.Setenv("GOGC", c.env)
		if got := gogcDefault(); got != c.want {
			t.Errorf("GOGC=%q: default %d, want %d", c.env, got, c.want)
		}
	}
	t.Setenv("GOGC", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = realMain(ctx, []string{"--gogc", "150", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error"})
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("--gogc 150: the target is %d", got)
	}
}
