package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// stallSecond is one second of the stall probe: how late its thread ran,
// at worst, after asking to sleep for the period.
type stallSecond struct {
	UnixS     int64   `json:"unix_s"`
	Wakeups   int     `json:"wakeups"`
	MaxLateMS float64 `json:"max_late_ms"`
	Over5MS   int     `json:"over_5ms"`
	Over20MS  int     `json:"over_20ms"`
}

type stallReport struct {
	Priority string        `json:"priority"`
	PeriodMS float64       `json:"period_ms"`
	Seconds  []stallSecond `json:"seconds"`
}

// stallsCmd tells a machine that stops from a machine that is busy. A
// thread at real-time priority sleeps for a millisecond at a time, in the
// kernel, and records how late it wakes. The kernel runs such a thread as
// soon as its timer fires, ahead of the server and the generator, so a
// lateness of many milliseconds means the virtual CPU itself did not run,
// not that the load kept the probe waiting. Without the privilege to raise
// its priority it still runs, at normal priority, and says so; its lateness
// then also counts the wait for a CPU.
func stallsCmd(args []string) error {
	fs := flag.NewFlagSet("stalls", flag.ContinueOnError)
	duration := fs.Duration("duration", time.Minute, "how long to probe")
	period := fs.Duration("period", time.Millisecond, "sleep between wake-ups")
	out := fs.String("out", "", "JSON file, one entry per second (none: the summary alone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *period <= 0 || *duration <= 0 {
		return fmt.Errorf("-period and -duration must be positive")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// The thread stays locked, so that it ends with this goroutine instead
	// of going back to the runtime at real-time priority.
	runtime.LockOSThread()
	rep := stallReport{Priority: "SCHED_FIFO 10", PeriodMS: float64(*period) / 1e6}
	if err := unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: 10}, 0); err != nil {
		rep.Priority = "normal (" + err.Error() + ")"
	}
	ts := unix.NsecToTimespec(int64(*period))
	end := time.Now().Add(*duration)
	var cur *stallSecond
	for {
		before := time.Now()
		if !before.Before(end) {
			break
		}
		if err := unix.Nanosleep(&ts, nil); err != nil && err != unix.EINTR {
			return err
		}
		after := time.Now()
		late := after.Sub(before) - *period
		if s := after.Unix(); cur == nil || cur.UnixS != s {
			rep.Seconds = append(rep.Seconds, stallSecond{UnixS: s})
			cur = &rep.Seconds[len(rep.Seconds)-1]
		}
		cur.Wakeups++
		ms := float64(late) / 1e6
		cur.MaxLateMS = max(cur.MaxLateMS, ms)
		if ms >= 5 {
			cur.Over5MS++
		}
		if ms >= 20 {
			cur.Over20MS++
		}
	}
	var worst float64
	over5, over20 := 0, 0
	for _, s := range rep.Seconds {
		worst = max(worst, s.MaxLateMS)
		if s.Over5MS > 0 {
			over5++
		}
		if s.Over20MS > 0 {
			over20++
		}
	}
	fmt.Printf("stall probe at %s priority, %d s: worst lateness %.1f ms; seconds with a wake-up 5 ms late or more: %d, 20 ms or more: %d\n",
		rep.Priority, len(rep.Seconds), worst, over5, over20)
	if *out == "" {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(b, '\n'), 0o644)
}
