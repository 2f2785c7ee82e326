// Command coverage checks settlements against public-service standards on a
// coverage server.
//
//	coverage rulesets [ID]
//	coverage check STANDARD --settlement FILE
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/civic-standards/coverage/clients/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
