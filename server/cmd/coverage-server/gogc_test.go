package main

import (
	"context"
	"math"
	"runtime/debug"
	"strings"
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

// TestMemoryLimit: --memory-limit sets the runtime's soft limit, in
// GOMEMLIMIT's notation; without it, $GOMEMLIMIT does, and without either,
// 1 GiB. A bad size is refused with the flag named.
func TestMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	for _, c := range []struct {
		in   string
		want int64
	}{{"0", 0}, {"1048576", 1 << 20}, {"512MiB", 512 << 20}, {"2GiB", 2 << 30}, {"64KiB", 64 << 10}, {"1TiB", 1 << 40}, {"10B", 10}} {
		if got, err := parseByteSize(c.in); err != nil || got != c.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5GiB", "GiB", "1 GiB", "1GB", "99999999999TiB"} {
		if _, err := parseByteSize(bad); err == nil {
			t.Errorf("parseByteSize(%q) accepted", bad)
		}
	}
	for _, c := range []struct{ env, want string }{{"", "1GiB"}, {"off", "0"}, {"300MiB", "300MiB"}} {
		t.Setenv("GOMEMLIMIT", c.env)
		if got := memoryLimitDefault(); got != c.want {
			t.Errorf("GOMEMLIMIT=%q: default %q, want %q", c.env, got, c.want)
		}
	}
	t.Setenv("GOMEMLIMIT", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	args := []string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error"}
	_ = realMain(ctx, append([]string{"--memory-limit", "300MiB"}, args...))
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("--memory-limit 300MiB: the limit is %d", got)
	}
	_ = realMain(ctx, append([]string{"--memory-limit", "0"}, args...))
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("--memory-limit 0: the limit is %d, want none", got)
	}
	if err := realMain(ctx, append([]string{"--memory-limit", "lots"}, args...)); err == nil || !strings.Contains(err.Error(), "--memory-limit") {
		t.Errorf("--memory-limit lots: err %v, want one naming the flag", err)
	}
}
