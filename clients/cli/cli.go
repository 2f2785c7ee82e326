package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/clients/client"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// Exit statuses.
const (
	ExitOK          = 0
	ExitFailure     = 1 // the server was unreachable or failed
	ExitUsage       = 2 // bad flags or arguments
	ExitInvalidData = 3 // the server rejected the input as invalid; for audit, some records were rejected
)

type globals struct {
	server  string
	timeout time.Duration
	output  string

	tls                         bool
	caFile, certFile, keyFile   string
	serverName                  string
	tokenFile, tokenFileFromEnv string
}

// tokenFileEnv names the environment variable that gives --token-file its
// default, so that scripts need not repeat the flag.
const tokenFileEnv = "COVERAGE_TOKEN_FILE"

// Run runs the command line with args (without the program name) and returns
// the exit status.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{}
	root := &cobra.Command{
		Use:           "coverage",
		Short:         "Check settlements against public-service standards on a coverage server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.server, "server", "localhost:50051", "gRPC address of the coverage server")
	root.PersistentFlags().DurationVar(&g.timeout, "timeout", client.DefaultTimeout, "deadline of each call")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	root.PersistentFlags().BoolVar(&g.tls, "tls", false, "connect over TLS, trusting the system's CAs")
	root.PersistentFlags().StringVar(&g.caFile, "ca-file", "", "PEM file of the CAs that sign the server's certificate (implies --tls)")
	root.PersistentFlags().StringVar(&g.certFile, "cert-file", "", "PEM file of the client certificate, for servers that require mutual TLS (implies --tls; needs --key-file)")
	root.PersistentFlags().StringVar(&g.keyFile, "key-file", "", "PEM file of the client certificate's private key (implies --tls)")
	root.PersistentFlags().StringVar(&g.serverName, "server-name", "", "name to check in the server's certificate instead of the --server host (implies --tls)")
	g.tokenFileFromEnv = os.Getenv(tokenFileEnv)
	root.PersistentFlags().StringVar(&g.tokenFile, "token-file", g.tokenFileFromEnv, "file holding a bearer token to send (needs TLS; default $"+tokenFileEnv+")")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(rulesetsCmd(g), checkCmd(g), gapsCmd(g), planCmd(g), auditCmd(g), samplesCmd())
	// Every flag and argument error is a usage error (exit 2), whatever cobra's wording.
	usage := func(_ *cobra.Command, err error) error { return fmt.Errorf("%w: %v", errUsage, err) }
	root.SetFlagErrorFunc(usage)
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(usage)
		if c.Args != nil {
			check := c.Args
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					return usage(cmd, err)
				}
				return nil
			}
		}
	}
	root.SetArgs(args)

	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "coverage:", err)
	var ce *client.Error
	switch {
	case errors.Is(err, errInterrupted):
		return ExitInterrupted
	case errors.Is(err, errRejects):
		return ExitInvalidData
	case errors.As(err, &ce) && ce.IsInvalid():
		for _, v := range ce.Violations {
			fmt.Fprintf(stderr, "  %s: %s\n", v.Field, v.Reason)
		}
		return ExitInvalidData
	case errors.As(err, &ce):
		return ExitFailure
	case errors.Is(err, errUsage) || strings.HasPrefix(err.Error(), "unknown command"):
		// cobra reports an unknown subcommand before any hook of ours runs.
		return ExitUsage
	}
	return ExitFailure
}

var errUsage = errors.New("usage")

func (g *globals) dial() (*client.Client, error) {
	if g.output != "table" && g.output != "json" {
		return nil, fmt.Errorf("%w: --output must be table or json, got %q", errUsage, g.output)
	}
	opts, err := g.clientOptions()
	if err != nil {
		return nil, err
	}
	return client.Dial(g.server, opts...)
}

// clientOptions turns the global flags into client options: the timeout, TLS
// and the bearer token. Every problem with the TLS and token flags is a
// usage error that names the flag and the file.
func (g *globals) clientOptions() ([]client.Option, error) {
	opts := []client.Option{client.WithTimeout(g.timeout)}
	useTLS := g.tls || g.caFile != "" || g.certFile != "" || g.keyFile != "" || g.serverName != ""
	if g.tokenFile != "" && !useTLS {
		return nil, fmt.Errorf("%w: a bearer token (%s) needs TLS, or it would cross the network in clear text: add --tls, or --ca-file for a server whose certificate a private CA signs", errUsage, g.tokenFlag())
	}
	if !useTLS {
		return opts, nil
	}
	if (g.certFile == "") != (g.keyFile == "") {
		return nil, fmt.Errorf("%w: --cert-file and --key-file go together: mutual TLS needs the certificate and its key", errUsage)
	}
	cfg, err := client.TLSFiles(g.caFile, g.certFile, g.keyFile, g.serverName)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", errUsage, flagsNamedIn(err.Error(), map[string]string{
			"--ca-file": g.caFile, "--cert-file": g.certFile, "--key-file": g.keyFile,
		}), strings.TrimPrefix(err.Error(), "client: "))
	}
	opts = append(opts, client.WithTLS(cfg))
	if g.tokenFile != "" {
		token, err := client.TokenFromFile(g.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %s", errUsage, g.tokenFlag(), strings.TrimPrefix(err.Error(), "client: "))
		}
		opts = append(opts, client.WithToken(token))
	}
	return opts, nil
}

// tokenFlag names where the token file came from, for messages: a file
// nobody typed on this command line is otherwise a puzzle.
func (g *globals) tokenFlag() string {
	if g.tokenFile == g.tokenFileFromEnv {
		return "--token-file (from $" + tokenFileEnv + ")"
	}
	return "--token-file"
}

// flagsNamedIn lists, in order, the flags whose file msg names; the client
// package knows the files but not the flags that gave them.
func flagsNamedIn(msg string, files map[string]string) string {
	var named []string
	for _, flag := range []string{"--ca-file", "--cert-file", "--key-file"} {
		path := files[flag]
		if path != "" && (strings.Contains(msg, " "+path+":") || strings.Contains(msg, " "+path+" ") || strings.HasSuffix(msg, " "+path)) {
			named = append(named, flag)
		}
	}
	if len(named) == 0 {
		return "--ca-file, --cert-file, --key-file"
	}
	return strings.Join(named, ", ")
}

func rulesetsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rulesets [ID]",
		Short: "List the server's rulesets, or show the rules of one",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				resp, err := c.GetRuleset(cmd.Context(), &coveragev1.GetRulesetRequest{Id: args[0]})
				if err != nil {
					return err
				}
				if g.output == "json" {
					return writeJSON(out, resp)
				}
				return writeRules(out, resp.GetRuleset())
			}
			resp, err := c.ListRulesets(cmd.Context(), &coveragev1.ListRulesetsRequest{})
			if err != nil {
				return err
			}
			if g.output == "json" {
				return writeJSON(out, resp)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tVERSION\tRULES\tDEFAULT\tTITLE")
			for _, rs := range resp.GetRulesets() {
				def := ""
				if rs.GetId() == resp.GetDefaultRulesetId() {
					def = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", rs.GetId(), rs.GetVersion(), len(rs.GetRules()), def, rs.GetTitle())
			}
			return tw.Flush()
		},
	}
}

func writeRules(out io.Writer, rs *coveragev1.Ruleset) error {
	fmt.Fprintf(out, "%s %s — %s\n%s\n\n", rs.GetId(), rs.GetVersion(), rs.GetTitle(), rs.GetSource().GetTitle())
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSECTION\tTITLE")
	for _, r := range rs.GetRules() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.GetId(), r.GetCitation().GetSection(), r.GetTitle())
	}
	return tw.Flush()
}

// standards maps the names `coverage check` accepts to their RPCs.
var standards = map[string]func(ctx context.Context, c *client.Client, rulesetID string, s *coveragev1.Settlement) (proto.Message, []*coveragev1.RuleResult, error){
	"all": func(ctx context.Context, c *client.Client, id string, s *coveragev1.Settlement) (proto.Message, []*coveragev1.RuleResult, error) {
		r, err := c.Audit(ctx, &coveragev1.AuditRequest{RulesetId: id, Settlement: s})
		return r, r.GetResults(), err
	},
	"elderly-care": func(ctx context.Context, c *client.Client, id string, s *coveragev1.Settlement) (proto.Message, []*coveragev1.RuleResult, error) {
		r, err := c.CheckElderlyCare(ctx, &coveragev1.CheckElderlyCareRequest{RulesetId: id, Settlement: s})
		return r, append([]*coveragev1.RuleResult{r.GetResult()}, r.GetOtherResults()...), err
	},
	"health-facilities": func(ctx context.Context, c *client.Client, id string, s *coveragev1.Settlement) (proto.Message, []*coveragev1.RuleResult, error) {
		r, err := c.CheckHealthFacilities(ctx, &coveragev1.CheckHealthFacilitiesRequest{RulesetId: id, Settlement: s})
		return r, r.GetResults(), err
	},
	"parking": func(ctx context.Context, c *client.Client, id string, s *coveragev1.Settlement) (proto.Message, []*coveragev1.RuleResult, error) {
		r, err := c.CheckParking(ctx, &coveragev1.CheckParkingRequest{RulesetId: id, Settlement: s})
		return r, append([]*coveragev1.RuleResult{r.GetResult()}, r.GetOtherResults()...), err
	},
	"transit": func(ctx context.Context, c *client.Client, id string, s *coveragev1.Settlement) (proto.Message, []*coveragev1.RuleResult, error) {
		r, err := c.CheckTransit(ctx, &coveragev1.CheckTransitRequest{RulesetId: id, Settlement: s})
		return r, r.GetResults(), err
	},
	"bus-stop-coverage": func(ctx context.Context, c *client.Client, id string, s *coveragev1.Settlement) (proto.Message, []*coveragev1.RuleResult, error) {
		r, err := c.CheckBusStopCoverage(ctx, &coveragev1.CheckBusStopCoverageRequest{RulesetId: id, Settlement: s})
		if r.GetResult() == nil {
			return r, nil, err
		}
		return r, []*coveragev1.RuleResult{r.GetResult()}, err
	},
}

func standardNames() []string {
	names := make([]string, 0, len(standards))
	for n := range standards {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func checkCmd(g *globals) *cobra.Command {
	var file, rulesetID string
	cmd := &cobra.Command{
		Use:   "check STANDARD --settlement FILE",
		Short: "Check one settlement against a standard (" + strings.Join(standardNames(), ", ") + ")",
		Long: "Check one settlement, given as protojson (the `settlement` object of the REST API, bare or in a\n" +
			"request body) in FILE or on standard input (-), against one standard, or against every rule with `all`.\n\n" +
			"STANDARD is one of: " + strings.Join(standardNames(), ", ") + ".",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			call, ok := standards[args[0]]
			if !ok {
				return fmt.Errorf("%w: unknown standard %q; want one of %s", errUsage, args[0], strings.Join(standardNames(), ", "))
			}
			s, fileRuleset, err := readSettlement(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			resp, results, err := call(cmd.Context(), c, cmp.Or(rulesetID, fileRuleset), s)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), resp)
			}
			return writeResults(cmd.OutOrStdout(), results)
		},
	}
	cmd.Flags().StringVarP(&file, "settlement", "s", "-", "settlement JSON file, or - for standard input")
	cmd.Flags().StringVar(&rulesetID, "ruleset", "", "ruleset ID (default: the server's default)")
	return cmd
}

// readSettlement reads a settlement as protojson: the settlement object
// itself, or a request body that carries it under "settlement" (the files in
// examples/, and GET /v1/samples/{set}/settlements/{id}), whose rulesetId
// is returned too.
func readSettlement(file string, stdin io.Reader) (*coveragev1.Settlement, string, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: read settlement: %v", errUsage, err)
	}
	var body struct {
		Settlement json.RawMessage `json:"settlement"`
		RulesetID  string          `json:"rulesetId"`
	}
	if json.Unmarshal(data, &body) == nil && len(body.Settlement) > 0 && string(body.Settlement) != "null" {
		data = body.Settlement
	}
	s := &coveragev1.Settlement{}
	if err := protojson.Unmarshal(data, s); err != nil {
		return nil, "", fmt.Errorf("%w: settlement %s: %v", errUsage, file, err)
	}
	return s, body.RulesetID, nil
}

func writeJSON(out io.Writer, m proto.Message) error {
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(data))
	return err
}

func writeResults(out io.Writer, results []*coveragev1.RuleResult) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSTATUS\tVALUE\tTHRESHOLD\tSHORTFALL\tREASON")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.GetRuleId(), strings.TrimPrefix(r.GetStatus().String(), "STATUS_"),
			optional(r.Value, ""), optional(r.Threshold, ""), optional(r.Shortfall, r.GetShortfallUnit()), r.GetReason())
	}
	return tw.Flush()
}

func optional(v *float64, unit string) string {
	if v == nil {
		return "-"
	}
	s := strconv.FormatFloat(*v, 'g', 8, 64)
	if unit != "" {
		s += " " + unit
	}
	return s
}
