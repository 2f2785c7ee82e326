package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStalls runs the probe briefly: it must report every second it ran in,
// with wake-ups counted, lateness that is never negative, and its priority,
// whether or not the machine let it raise it.
func TestStalls(t *testing.T) {
	out := filepath.Join(t.TempDir(), "stalls.json")
	if err := stallsCmd([]string{"-duration", "1200ms", "-period", "2ms", "-out", out}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep stallReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.PeriodMS != 2 || rep.Priority == "" {
		t.Errorf("period %v ms, priority %q", rep.PeriodMS, rep.Priority)
	}
	if len(rep.Seconds) < 2 || len(rep.Seconds) > 3 {
		t.Fatalf("%d seconds reported for 1.2 s of probing", len(rep.Seconds))
	}
	wakeups := 0
	for i, s := range rep.Seconds {
		if i > 0 && s.UnixS != rep.Seconds[i-1].UnixS+1 {
			t.Errorf("second %d is %d, after %d", i, s.UnixS, rep.Seconds[i-1].UnixS)
		}
		if s.MaxLateMS < 0 || s.Over20MS > s.Over5MS || s.Over5MS > s.Wakeups {
			t.Errorf("second %d: %+v", i, s)
		}
		wakeups += s.Wakeups
	}
	// 1.2 s at 2 ms is 600 wake-ups when every sleep is on time; a busy
	// test machine makes fewer, never more.
	if wakeups < 50 || wakeups > 600 {
		t.Errorf("%d wake-ups in 1.2 s at a 2 ms period", wakeups)
	}
	if time.Unix(rep.Seconds[0].UnixS, 0).After(time.Now()) {
		t.Error("seconds in the future")
	}
	if !strings.HasPrefix(rep.Priority, "SCHED_FIFO") && !strings.HasPrefix(rep.Priority, "normal (") {
		t.Errorf("priority %q", rep.Priority)
	}
	if err := stallsCmd([]string{"-period", "0"}); err == nil {
		t.Error("a zero period was accepted")
	}
}
