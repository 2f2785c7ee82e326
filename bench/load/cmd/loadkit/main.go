// Command loadkit is the helper of bench/load/run.sh: it writes the request
// payloads, waits for the server, measures processes, samples the server
// during the soak, runs the batch-stream scenario, and turns the load
// generators' reports into one Markdown table.
//
//	loadkit payloads -out DIR [-settlement examples/town-health-facilities.json] [-stream 10000]
//	loadkit ports                       # two free loopback ports
//	loadkit wait -grpc ADDR -http ADDR  # until gRPC health and GET /healthz answer SERVING
//	loadkit cpu PID|all                 # CPU seconds (user + system) of a process, or of the machine, so far
//	loadkit quiet [-max 2m]             # wait until other work on the machine has died down
//	loadkit exec -rusage FILE -- CMD... # run CMD, write its wall time, CPU and peak RSS
//	loadkit trim-ghz IN OUT             # a ghz JSON report without its per-request details
//	loadkit stream ...                  # the AuditStream scenario through `coverage audit`
//	loadkit sample ...                  # RSS, threads and goroutines of the server every 10 s
//	loadkit probe-metrics URL           # does the server serve go_goroutines?
//	loadkit record ...                  # one normalised result row from a ghz/vegeta/stream report
//	loadkit table -rows FILE            # the Markdown summary of the rows
//	loadkit stalls [-duration 1m] [-out FILE] # how late a real-time thread wakes, second by second
//	loadkit hog [-after 6m] [-for 1m]   # keep every CPU busy for a while: a slow phase on purpose
//
// None of it is part of the service.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		printUsage()
	}
	cmds := map[string]func([]string) error{
		"payloads":      payloadsCmd,
		"ports":         portsCmd,
		"wait":          waitCmd,
		"cpu":           cpuCmd,
		"quiet":         quietCmd,
		"exec":          execCmd,
		"trim-ghz":      trimGhzCmd,
		"stream":        streamCmd,
		"sample":        sampleCmd,
		"probe-metrics": probeCmd,
		"record":        recordCmd,
		"table":         tableCmd,
		"stalls":        stallsCmd,
		"hog":           hogCmd,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		printUsage()
	}
	if err := cmd(os.Args[2:]); err != nil {
		if e, ok := err.(exitError); ok {
			os.Exit(int(e))
		}
		fmt.Fprintf(os.Stderr, "loadkit %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// exitError passes a child's exit status through.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func printUsage() {
	fmt.Fprintln(os.Stderr, "usage: loadkit payloads|ports|wait|cpu|quiet|exec|trim-ghz|stream|sample|probe-metrics|record|table|stalls|hog [flags]")
	os.Exit(2)
}
