package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// Tokens holds the SHA-256 hashes of the bearer tokens that may call the
// service. The file holds hashes, not tokens, so that reading it (a backup,
// a config repository, a support bundle) does not give anyone access.
//
// A nil *Tokens requires no token: its interceptors pass every call, so they
// can be installed whether or not a token file is configured.
//
// REST callers send "Authorization: Bearer <token>" to the gateway, which
// forwards the HTTP Authorization header as the "authorization" metadata of
// the gRPC call; the same check applies to both. A request with two
// Authorization headers arrives with two values and is refused.
//
// A token may carry a policy, the methods it may call (see LoadTokens); a
// token without one may call every method. A valid token calling a method
// outside its policy is refused with PermissionDenied (HTTP 403), a missing
// or wrong token with Unauthenticated (HTTP 401). Open methods (OpenMethods)
// need no token and no policy.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	hash [sha256.Size]byte
	name string
	// methods are the full method names ("/coverage.v1.CoverageService/Audit")
	// the token may call; nil allows every method.
	methods map[string]struct{}
}

const tokenHashPrefix = "sha256:"

// HashToken is the line to put in a token file for token: "sha256:<hex>".
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return tokenHashPrefix + hex.EncodeToString(sum[:])
}

// LoadTokens reads a token file: one token per line as "sha256:<64 hex>",
// optionally followed by whitespace and a name that identifies the caller in
// logs, and optionally ending with a policy, a field "methods=" followed by a
// comma-separated list, without spaces, of the methods the token may call,
// for example
//
//	# planning bureau, issued 2025-03: every method
//	sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 planning-bureau
//	# reporting system: read-only audits only
//	sha256:1cd01dfd5d302dc16eaab4fa17a9d74db638a188a149c59b53415efb3181f450 reporting methods=Audit,AuditBatch,AuditStream
//
// A method is named by its short name in coverage.v1.CoverageService
// ("Audit"), by its service and name ("coverage.v1.CoverageService/Audit")
// or by its full gRPC name ("/coverage.v1.CoverageService/Audit");
// "coverage.v1.CoverageService/*" (or "/coverage.v1.CoverageService/*", or
// "*") is every method of the service. Names are case-sensitive, as in gRPC; a
// method listed twice is listed once. A line without a policy allows every
// method, as before policies existed. Open methods (OpenMethods) need no
// token and are not named in policies.
//
// Blank lines and lines starting with # are ignored. A token without a name
// is named after its line ("line 3"). Plain tokens, duplicate hashes, a file
// with no tokens, an unknown method, an empty list or item, and a methods=
// field that is not the last of its line (two of them, or a list with
// spaces) are errors. Errors name the file and the line, and an unknown
// method's name, never the rest of the line's content, which may be a token
// pasted by mistake.
func LoadTokens(path string) (*Tokens, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	t := &Tokens{}
	firstLine := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		field, rest := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			field, rest = line[:i], strings.TrimSpace(line[i+1:])
		}
		hexHash, ok := strings.CutPrefix(field, tokenHashPrefix)
		if !ok {
			return nil, fmt.Errorf("token file %s: line %d is not a %s<hex> hash: the file holds hashes of tokens, not the tokens themselves (a token's line is \"sha256:\" followed by the hex SHA-256 of the token, as `printf %%s TOKEN | sha256sum` prints it)", path, n, tokenHashPrefix)
		}
		if len(hexHash) != hex.EncodedLen(sha256.Size) {
			return nil, fmt.Errorf("token file %s: line %d: the hash has %d characters, want %d hex digits", path, n, len(hexHash), hex.EncodedLen(sha256.Size))
		}
		var e tokenEntry
		if _, err := hex.Decode(e.hash[:], []byte(hexHash)); err != nil {
			return nil, fmt.Errorf("token file %s: line %d: the hash is not hexadecimal", path, n)
		}
		if first, dup := firstLine[e.hash]; dup {
			return nil, fmt.Errorf("token file %s: lines %d and %d hold the same hash", path, first, n)
		}
		firstLine[e.hash] = n
		name, policy, hasPolicy, err := splitPolicy(rest)
		if err != nil {
			return nil, fmt.Errorf("token file %s: line %d: %w", path, n, err)
		}
		if hasPolicy {
			if e.methods, err = parsePolicy(policy); err != nil {
				return nil, fmt.Errorf("token file %s: line %d: %w", path, n, err)
			}
		}
		e.name = name
		if e.name == "" {
			e.name = fmt.Sprintf("line %d", n)
		}
		t.entries = append(t.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("token file %s: no tokens (want lines of sha256:<64 hex digits> [name] [methods=Method,...])", path)
	}
	return t, nil
}

// policyKey starts the field of a token's line that lists its methods.
const policyKey = "methods="

// splitPolicy splits what follows a token's hash into its name and, when the
// last field starts with "methods=", the list after it. A methods= field
// elsewhere is an error rather than part of the name: "methods=Audit,
// AuditBatch" (a space in the list) must not leave a token allowed to call
// every method. The key's case does not matter, for the same reason.
func splitPolicy(rest string) (name, policy string, ok bool, err error) {
	fields := strings.Fields(rest)
	for i, f := range fields {
		if len(f) < len(policyKey) || !strings.EqualFold(f[:len(policyKey)], policyKey) {
			continue
		}
		if i != len(fields)-1 {
			return "", "", false, fmt.Errorf("%s must be the last field of the line, and only one, its methods separated by commas without spaces", policyKey)
		}
		return strings.TrimSpace(rest[:len(rest)-len(f)]), f[len(policyKey):], true, nil
	}
	return rest, "", false, nil
}

// policyService is the service whose methods policies name, and
// policyMethods its full method names ("/coverage.v1.CoverageService/Audit").
// Open methods are not among them.
var (
	policyService = &coveragev1.CoverageService_ServiceDesc
	policyMethods = fullMethodNames(policyService)
)

func fullMethodNames(d *grpc.ServiceDesc) []string {
	var names []string
	for _, m := range d.Methods {
		names = append(names, "/"+d.ServiceName+"/"+m.MethodName)
	}
	for _, st := range d.Streams {
		names = append(names, "/"+d.ServiceName+"/"+st.StreamName)
	}
	return names
}

// parsePolicy turns the list of a methods= field into the set of full method
// names it allows, the key Authorize looks up as gRPC names the call.
func parsePolicy(list string) (map[string]struct{}, error) {
	if list == "" {
		return nil, fmt.Errorf("%s lists no methods (leave the field out to allow every method)", policyKey)
	}
	allowed := map[string]struct{}{}
	for item := range strings.SplitSeq(list, ",") {
		if item == "" {
			return nil, fmt.Errorf("%s has an empty item (methods are separated by single commas)", policyKey)
		}
		full := item
		if !strings.Contains(item, "/") {
			full = policyService.ServiceName + "/" + item
		}
		full = "/" + strings.TrimPrefix(full, "/")
		if full == "/"+policyService.ServiceName+"/*" {
			for _, m := range policyMethods {
				allowed[m] = struct{}{}
			}
			continue
		}
		if !slices.Contains(policyMethods, full) {
			return nil, fmt.Errorf("unknown method %q in %s (want a method of %s, such as Audit, %s/Audit, /%s/Audit or %s/*)",
				clip(item, 100), policyKey, policyService.ServiceName, policyService.ServiceName, policyService.ServiceName, policyService.ServiceName)
		}
		allowed[full] = struct{}{}
	}
	return allowed, nil
}

// OpenMethods are the gRPC methods callable without a token, as prefixes of
// the full method name: health checking, which orchestrators and load
// balancers call without credentials, and server reflection, which tells
// nothing a published .proto does not.
var OpenMethods = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

func isOpenMethod(fullMethod string) bool {
	for _, prefix := range OpenMethods {
		if strings.HasPrefix(fullMethod, prefix) {
			return true
		}
	}
	return false
}

var (
	errMissingToken   = status.Error(codes.Unauthenticated, "missing bearer token")
	errMalformedToken = status.Error(codes.Unauthenticated, "malformed authorization header")
	errInvalidToken   = status.Error(codes.Unauthenticated, "invalid token")
)

// Authorize checks the "authorization: Bearer <token>" metadata of an
// incoming call (the scheme's case does not matter) against the stored
// hashes. The presented token's hash is compared with every stored hash in
// constant time, so neither the comparison nor the position of a match shows
// in the timing; only then is the token's policy looked up. A missing,
// malformed or unknown token is Unauthenticated; a valid token calling a
// method outside its policy is PermissionDenied, with a message that names
// the method and the token's name. Errors never echo the token or its hash.
// On success, and on PermissionDenied, the returned context carries the
// token's name (TokenName), so that the log names who was refused. Open
// methods, and every call when t is nil, pass unchecked.
func (t *Tokens) Authorize(ctx context.Context, fullMethod string) (context.Context, error) {
	if t == nil || isOpenMethod(fullMethod) {
		return ctx, nil
	}
	// ValueFromIncomingContext copies this key's values only, where
	// FromIncomingContext would copy all of the call's metadata.
	values := metadata.ValueFromIncomingContext(ctx, "authorization")
	if len(values) == 0 {
		return ctx, errMissingToken
	}
	// Two values are two different claims about the caller; picking one
	// would let whatever added the other decide which is checked.
	if len(values) > 1 {
		return ctx, errMalformedToken
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	token = strings.TrimLeft(token, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return ctx, errMalformedToken
	}
	sum := sha256.Sum256([]byte(token))
	found, index := 0, 0
	for i := range t.entries {
		eq := subtle.ConstantTimeCompare(sum[:], t.entries[i].hash[:])
		index = subtle.ConstantTimeSelect(eq, i, index)
		found |= eq
	}
	if found != 1 {
		return ctx, errInvalidToken
	}
	e := &t.entries[index]
	// The entries do not change after LoadTokens: the slot can point at the
	// entry's name, which costs no allocation.
	ctx = withTokenName(ctx, &e.name)
	if e.methods != nil {
		if _, allowed := e.methods[fullMethod]; !allowed {
			return ctx, status.Errorf(codes.PermissionDenied, "token %q may not call %s", e.name, fullMethod)
		}
	}
	return ctx, nil
}

// withTokenName records name in ctx's slot, or in a new one.
func withTokenName(ctx context.Context, name *string) context.Context {
	if slot, ok := ctx.Value(tokenNameKey{}).(*tokenNameSlot); ok {
		slot.name.Store(name)
		return ctx
	}
	slot := &tokenNameSlot{}
	slot.name.Store(name)
	return context.WithValue(ctx, tokenNameKey{}, slot)
}

type tokenNameKey struct{}

// tokenNameSlot holds the name of the token a call was authorized with. It
// is a slot rather than a plain value so that an interceptor running outside
// the token check (the request logger, which should also see refused calls)
// can place it in the context and read the name after the call.
type tokenNameSlot struct{ name atomic.Pointer[string] }

// withTokenNameSlot prepares ctx so that the name Authorize finds further in
// the interceptor chain is visible through TokenName(ctx) here too.
func withTokenNameSlot(ctx context.Context) context.Context {
	if _, ok := ctx.Value(tokenNameKey{}).(*tokenNameSlot); ok {
		return ctx
	}
	return context.WithValue(ctx, tokenNameKey{}, &tokenNameSlot{})
}

// tokenNameSlotUnaryInterceptor and tokenNameSlotStreamInterceptor go ahead
// of the request logger in the chain, with the token check after it: the
// logger then records refused calls, and, through
// logging.WithFieldsFromContext(TokenName), the caller of accepted ones.
func tokenNameSlotUnaryInterceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	return handler(withTokenNameSlot(ctx), req)
}

func tokenNameSlotStreamInterceptor(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, authorizedStream{ServerStream: ss, ctx: withTokenNameSlot(ss.Context())})
}

// TokenName is the name of the token the call in ctx was authorized with
// (see LoadTokens), or "" if it was not checked (no token file, an open
// method) or not yet.
func TokenName(ctx context.Context) string {
	if slot, ok := ctx.Value(tokenNameKey{}).(*tokenNameSlot); ok {
		if name := slot.name.Load(); name != nil {
			return *name
		}
	}
	return ""
}

// UnaryServerInterceptor refuses unary calls that Authorize refuses.
func (t *Tokens) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := t.Authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor refuses streams that Authorize refuses; the
// handler's stream context carries the token's name.
func (t *Tokens) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := t.Authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		if ctx == ss.Context() {
			return handler(srv, ss)
		}
		return handler(srv, authorizedStream{ServerStream: ss, ctx: ctx})
	}
}

type authorizedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s authorizedStream) Context() context.Context { return s.ctx }
