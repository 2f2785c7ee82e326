package deploy_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/civic-standards/coverage/coverage"
)

const (
	manifestDir   = "kubernetes"
	kustomization = "kustomization.yaml"
	serverMain    = "../server/cmd/coverage-server/main.go"
	serverPkg     = "./server/cmd/coverage-server"
	grpcPort      = 50051
	httpPort      = 8080
)

// doc is one YAML document of a manifest file.
type doc struct {
	file string
	obj  map[string]any
}

func (d doc) kind() string { return str(d.obj, "kind") }
func (d doc) name() string { return str(d.obj, "metadata", "name") }
func (d doc) String() string {
	return fmt.Sprintf("%s: %s %q", d.file, d.kind(), d.name())
}

// readDocs parses every document of a YAML file into generic maps.
func readDocs(t *testing.T, path string) []doc {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []doc
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if obj != nil {
			docs = append(docs, doc{file: path, obj: obj})
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML document", path)
	}
	return docs
}

// manifestFiles lists the YAML files directly under dir, kustomization.yaml
// aside.
func manifestFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.Type().IsRegular() && (ext == ".yaml" || ext == ".yml") && e.Name() != kustomization {
			files = append(files, e.Name())
		}
	}
	return files
}

// applied is every object kustomization.yaml applies; examples are every
// object under kubernetes/examples.
func applied(t *testing.T) []doc {
	t.Helper()
	var docs []doc
	for _, f := range manifestFiles(t, manifestDir) {
		docs = append(docs, readDocs(t, filepath.Join(manifestDir, f))...)
	}
	return docs
}

func examples(t *testing.T) []doc {
	t.Helper()
	dir := filepath.Join(manifestDir, "examples")
	var docs []doc
	for _, f := range manifestFiles(t, dir) {
		docs = append(docs, readDocs(t, filepath.Join(dir, f))...)
	}
	return docs
}

// only returns the one object of a kind, failing unless there is exactly one.
func only(t *testing.T, docs []doc, kind, name string) doc {
	t.Helper()
	var found []doc
	for _, d := range docs {
		if d.kind() == kind && (name == "" || d.name() == name) {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s %q, found %d: %v", kind, name, len(found), found)
	}
	return found[0]
}

// get walks maps by key and lists by index; nil when the path is absent.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

func num(v any, path ...any) (int, bool) {
	n, ok := get(v, path...).(int)
	return n, ok
}

func TestEveryObjectIsNamed(t *testing.T) {
	for _, d := range append(applied(t), examples(t)...) {
		for _, key := range [][]any{{"apiVersion"}, {"kind"}, {"metadata", "name"}} {
			if str(d.obj, key...) == "" {
				t.Errorf("%s: document without %v", d.file, key)
			}
		}
		if ns := str(d.obj, "metadata", "namespace"); ns != "" {
			t.Errorf("%v: namespace %q is set; leave it to kubectl -n", d, ns)
		}
		if str(d.obj, "metadata", "labels", "app.kubernetes.io/name") == "" {
			t.Errorf("%v: no app.kubernetes.io/name label", d)
		}
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	k := readDocs(t, filepath.Join(manifestDir, kustomization))
	if len(k) != 1 || k[0].kind() != "Kustomization" {
		t.Fatalf("%s: want one Kustomization document", kustomization)
	}
	var listed []string
	for _, r := range get(k[0].obj, "resources").([]any) {
		listed = append(listed, r.(string))
	}
	files := manifestFiles(t, manifestDir)
	for _, f := range files {
		if !slices.Contains(listed, f) {
			t.Errorf("%s is not listed in %s", f, kustomization)
		}
	}
	for _, r := range listed {
		if !slices.Contains(files, r) {
			t.Errorf("%s lists %s, which is not a manifest in %s", kustomization, r, manifestDir)
		}
	}
}

// serverFlags finds the flags coverage-server defines, from the calls on its
// flag.FlagSet in main.go.
func serverFlags(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(serverMain)
	if err != nil {
		t.Fatal(err)
	}
	fsVar := regexp.MustCompile(`(\w+)\s*:?=\s*flag\.NewFlagSet\(`).FindSubmatch(src)
	if fsVar == nil {
		t.Fatalf("%s: no flag.NewFlagSet", serverMain)
	}
	// fs.String("name", …), fs.Duration("name", …), fs.StringVar(&v, "name", …), fs.Func("name", …)
	def := regexp.MustCompile(`\b` + string(fsVar[1]) + `\.[A-Z]\w*\(\s*(?:&?[\w.]+\s*,\s*)?"([^"]+)"`)
	flags := map[string]bool{}
	for _, m := range def.FindAllSubmatch(src, -1) {
		flags[string(m[1])] = true
	}
	for _, want := range []string{"grpc-addr", "http-addr", "shutdown-timeout"} {
		if !flags[want] {
			t.Fatalf("%s: found flags %v but not %q; has the way flags are defined changed?", serverMain, flags, want)
		}
	}
	return flags
}

// container is the coverage-server container of the Deployment.
func container(t *testing.T, dep doc) map[string]any {
	t.Helper()
	cs, _ := get(dep.obj, "spec", "template", "spec", "containers").([]any)
	if len(cs) != 1 {
		t.Fatalf("%v: want one container, got %d", dep, len(cs))
	}
	return cs[0].(map[string]any)
}

// containerArgs parses the container's args as --name=value (or --name value).
func containerArgs(t *testing.T, c map[string]any) map[string]string {
	t.Helper()
	raw, _ := c["args"].([]any)
	args := map[string]string{}
	for i := 0; i < len(raw); i++ {
		a := fmt.Sprint(raw[i])
		if !strings.HasPrefix(a, "-") {
			t.Errorf("container arg %q is not a flag (the server takes no arguments)", a)
			continue
		}
		name, value, ok := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !ok && i+1 < len(raw) && !strings.HasPrefix(fmt.Sprint(raw[i+1]), "-") {
			i++
			value = fmt.Sprint(raw[i])
		}
		if _, dup := args[name]; dup {
			t.Errorf("flag --%s given twice", name)
		}
		args[name] = value
	}
	return args
}

func TestContainerArgsAreServerFlags(t *testing.T) {
	flags := serverFlags(t)
	c := container(t, only(t, applied(t), "Deployment", "coverage-server"))
	args := containerArgs(t, c)
	if len(args) == 0 {
		t.Fatal("the container has no args")
	}
	for name := range args {
		if !flags[name] {
			t.Errorf("container arg --%s: coverage-server defines no such flag (it has %v)", name, slices.Sorted(maps.Keys(flags)))
		}
	}
}

func TestDeployment(t *testing.T) {
	dep := only(t, applied(t), "Deployment", "coverage-server")
	spec := get(dep.obj, "spec", "template", "spec")
	c := container(t, dep)
	args := containerArgs(t, c)

	if n, _ := num(dep.obj, "spec", "replicas"); n < 2 {
		t.Errorf("replicas %d: want at least 2 for clients to spread over", n)
	}
	if n, ok := num(dep.obj, "spec", "strategy", "rollingUpdate", "maxUnavailable"); !ok || n != 0 {
		t.Errorf("rollingUpdate.maxUnavailable = %v, want 0", get(dep.obj, "spec", "strategy", "rollingUpdate", "maxUnavailable"))
	}
	if !subset(get(dep.obj, "spec", "selector", "matchLabels"), get(dep.obj, "spec", "template", "metadata", "labels")) {
		t.Error("the Deployment's selector does not select its own pods")
	}

	// Ports: named, and the ones the server listens on.
	ports := map[string]int{}
	for _, p := range get(c, "ports").([]any) {
		n, _ := num(p, "containerPort")
		ports[str(p, "name")] = n
	}
	if ports["grpc"] != grpcPort || ports["http"] != httpPort {
		t.Errorf("container ports %v: want grpc %d and http %d", ports, grpcPort, httpPort)
	}
	for flag, want := range map[string]int{"grpc-addr": grpcPort, "http-addr": httpPort} {
		addr, ok := args[flag]
		if !ok {
			continue // the server's default (:50051, :8080)
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil || port != strconv.Itoa(want) {
			t.Errorf("--%s=%s does not listen on the container port %d", flag, addr, want)
		}
	}

	// Probes: native gRPC probes on the gRPC port.
	for _, probe := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
		p := get(c, probe)
		if p == nil {
			t.Errorf("no %s", probe)
			continue
		}
		if n, ok := num(p, "grpc", "port"); !ok || n != grpcPort {
			t.Errorf("%s: want a gRPC probe on port %d, got %v", probe, grpcPort, p)
		}
		for _, other := range []string{"httpGet", "tcpSocket", "exec"} {
			if get(p, other) != nil {
				t.Errorf("%s: has %s besides grpc", probe, other)
			}
		}
	}

	// Resources.
	for _, r := range [][]any{{"requests", "cpu"}, {"requests", "memory"}, {"limits", "memory"}} {
		if get(c, append([]any{"resources"}, r...)...) == nil {
			t.Errorf("resources.%s is not set", r[0].(string)+"."+r[1].(string))
		}
	}
	limit := quantity(t, fmt.Sprint(get(c, "resources", "limits", "memory")))
	if request := quantity(t, fmt.Sprint(get(c, "resources", "requests", "memory"))); request > limit {
		t.Errorf("memory request %d above the limit %d", request, limit)
	}
	for _, e := range asList(get(c, "env")) {
		if str(e, "name") == "GOMEMLIMIT" {
			if soft := goMemLimit(t, str(e, "value")); soft >= limit {
				t.Errorf("GOMEMLIMIT %s is not below limits.memory", str(e, "value"))
			}
		}
	}

	// Security.
	if get(spec, "securityContext", "runAsNonRoot") != true {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	sc := get(c, "securityContext")
	if get(sc, "readOnlyRootFilesystem") != true || get(sc, "allowPrivilegeEscalation") != false {
		t.Errorf("container securityContext %v: want readOnlyRootFilesystem and no privilege escalation", sc)
	}
	if drop := asList(get(sc, "capabilities", "drop")); !slices.Contains(drop, any("ALL")) {
		t.Errorf("container capabilities drop %v: want ALL", drop)
	}

	// Shutdown: the kubelet must not kill the server before its drain is over.
	grace, ok := num(spec, "terminationGracePeriodSeconds")
	if !ok {
		t.Fatal("terminationGracePeriodSeconds is not set")
	}
	timeout, ok := args["shutdown-timeout"]
	if !ok {
		t.Fatal("--shutdown-timeout is not in the container args")
	}
	d, err := time.ParseDuration(timeout)
	if err != nil {
		t.Fatalf("--shutdown-timeout=%s: %v", timeout, err)
	}
	if time.Duration(grace)*time.Second <= d {
		t.Errorf("terminationGracePeriodSeconds %d is not above --shutdown-timeout %v", grace, d)
	}

	// Spread over nodes.
	if get(spec, "topologySpreadConstraints") == nil && get(spec, "affinity", "podAntiAffinity") == nil {
		t.Error("neither topologySpreadConstraints nor podAntiAffinity")
	}
	for _, tsc := range asList(get(spec, "topologySpreadConstraints")) {
		if !subset(get(tsc, "labelSelector", "matchLabels"), get(dep.obj, "spec", "template", "metadata", "labels")) {
			t.Errorf("topologySpreadConstraint on %s does not select the pods", str(tsc, "topologyKey"))
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// subset reports whether the selector's labels are all among the labels; an
// empty selector selects nothing here.
func subset(selector, labels any) bool {
	sel, _ := selector.(map[string]any)
	lab, _ := labels.(map[string]any)
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if lab[k] != v {
			return false
		}
	}
	return true
}

func TestServicesAndBudgetSelectThePods(t *testing.T) {
	docs := applied(t)
	dep := only(t, docs, "Deployment", "coverage-server")
	podLabels := get(dep.obj, "spec", "template", "metadata", "labels")
	portNames := map[string]int{}
	for _, p := range asList(get(container(t, dep), "ports")) {
		n, _ := num(p, "containerPort")
		portNames[str(p, "name")] = n
	}

	for _, tc := range []struct {
		name     string
		headless bool
		port     string
		number   int
	}{
		{"coverage-grpc", true, "grpc", grpcPort},
		{"coverage-http", false, "http", httpPort},
	} {
		svc := only(t, docs, "Service", tc.name)
		if !subset(get(svc.obj, "spec", "selector"), podLabels) {
			t.Errorf("%v: selector %v does not select the Deployment's pods %v", svc, get(svc.obj, "spec", "selector"), podLabels)
		}
		clusterIP := str(svc.obj, "spec", "clusterIP")
		if tc.headless && clusterIP != "None" {
			t.Errorf("%v: clusterIP %q, want None (headless, for client-side balancing over DNS)", svc, clusterIP)
		}
		if !tc.headless && clusterIP == "None" {
			t.Errorf("%v: headless, want a cluster IP", svc)
		}
		ports := asList(get(svc.obj, "spec", "ports"))
		if len(ports) != 1 {
			t.Fatalf("%v: want one port, got %v", svc, ports)
		}
		p := ports[0]
		if n, _ := num(p, "port"); n != tc.number || str(p, "name") != tc.port {
			t.Errorf("%v: port %v, want %s %d", svc, p, tc.port, tc.number)
		}
		// targetPort names a container port, or is its number.
		switch target := get(p, "targetPort").(type) {
		case string:
			if portNames[target] != tc.number {
				t.Errorf("%v: targetPort %q is not the container's %s port", svc, target, tc.port)
			}
		case int:
			if target != tc.number {
				t.Errorf("%v: targetPort %d, want %d", svc, target, tc.number)
			}
		}
	}

	pdb := only(t, docs, "PodDisruptionBudget", "")
	if !subset(get(pdb.obj, "spec", "selector", "matchLabels"), podLabels) {
		t.Errorf("%v: selector does not select the Deployment's pods", pdb)
	}
	replicas, _ := num(dep.obj, "spec", "replicas")
	minAvail, hasMin := num(pdb.obj, "spec", "minAvailable")
	maxUnavail, hasMax := num(pdb.obj, "spec", "maxUnavailable")
	switch {
	case hasMin && minAvail >= replicas, hasMax && maxUnavail < 1, !hasMin && !hasMax:
		t.Errorf("%v: minAvailable %v / maxUnavailable %v would block every voluntary eviction of %d replicas, or is not set",
			pdb, get(pdb.obj, "spec", "minAvailable"), get(pdb.obj, "spec", "maxUnavailable"), replicas)
	}
}

// TestRulesets checks the optional rulesets ConfigMap: every ruleset in the
// example loads, and --rulesets, when given, names the directory the
// ConfigMap is mounted at.
func TestRulesets(t *testing.T) {
	dep := only(t, applied(t), "Deployment", "coverage-server")
	c := container(t, dep)
	cm := only(t, append(applied(t), examples(t)...), "ConfigMap", "coverage-rulesets")
	data, _ := get(cm.obj, "data").(map[string]any)
	for key, v := range data {
		if !strings.HasSuffix(key, ".json") {
			t.Errorf("%v: key %q: the server reads only *.json files", cm, key)
			continue
		}
		if _, err := coverage.ParseRuleset(key, []byte(fmt.Sprint(v))); err != nil {
			t.Errorf("%v: %v", cm, err)
		}
	}

	volume := ""
	for _, v := range asList(get(dep.obj, "spec", "template", "spec", "volumes")) {
		if str(v, "configMap", "name") == cm.name() {
			volume = str(v, "name")
		}
	}
	mounted := ""
	for _, m := range asList(get(c, "volumeMounts")) {
		if str(m, "name") == volume {
			mounted = str(m, "mountPath")
		}
	}
	if volume == "" || mounted == "" {
		t.Fatalf("the ConfigMap %s is not mounted in the container", cm.name())
	}
	if dir, ok := containerArgs(t, c)["rulesets"]; ok {
		if filepath.Clean(dir) != filepath.Clean(mounted) {
			t.Errorf("--rulesets=%s, but the ConfigMap is mounted at %s", dir, mounted)
		}
	}
}

// dockerfile is the Dockerfile's instructions, continuation lines joined and
// comments dropped.
func dockerfile(t *testing.T) [][2]string {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if more, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(more + " ")
			continue
		}
		cur.WriteString(line)
		instr, rest, _ := strings.Cut(cur.String(), " ")
		out = append(out, [2]string{strings.ToUpper(instr), strings.TrimSpace(rest)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDockerfile(t *testing.T) {
	instrs := dockerfile(t)
	var froms []string
	var built, copied, entry string
	var exposed []string
	var user string
	for _, in := range instrs {
		switch in[0] {
		case "FROM":
			froms = append(froms, in[1])
		case "RUN":
			if strings.Contains(in[1], "go build") {
				if !strings.Contains(in[1], "CGO_ENABLED=0") {
					t.Errorf("go build without CGO_ENABLED=0: %s", in[1])
				}
				if !slices.Contains(strings.Fields(in[1]), serverPkg) {
					t.Errorf("go build does not build %s: %s", serverPkg, in[1])
				}
				if m := regexp.MustCompile(`-o\s+(\S+)`).FindStringSubmatch(in[1]); m != nil {
					built = m[1]
				}
			}
		case "COPY":
			if f := strings.Fields(in[1]); len(f) == 3 && strings.HasPrefix(f[0], "--from=") && f[1] == built {
				copied = f[2]
			}
		case "ENTRYPOINT":
			entry = in[1]
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in[1])...)
		case "USER":
			user = in[1]
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a builder stage and a final stage, got FROM %v", froms)
	}
	if built == "" || copied == "" {
		t.Fatalf("the binary built with go build -o (%q) is not copied into the final image", built)
	}
	if entry != fmt.Sprintf(`[%q]`, copied) {
		t.Errorf("ENTRYPOINT %s, want [%q]", entry, copied)
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "scratch") && !strings.HasPrefix(final, "gcr.io/distroless/static") {
		t.Errorf("final image %s: want scratch or distroless static", final)
	}
	for _, p := range []int{grpcPort, httpPort} {
		if !slices.Contains(exposed, strconv.Itoa(p)) {
			t.Errorf("EXPOSE %v lacks %d", exposed, p)
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid != "65532" {
		t.Errorf("USER %q, want 65532 (nonroot)", user)
	}
	dep := only(t, applied(t), "Deployment", "coverage-server")
	if n, _ := num(dep.obj, "spec", "template", "spec", "securityContext", "runAsUser"); n != 0 && strconv.Itoa(n) != strings.Split(user, ":")[0] {
		t.Errorf("runAsUser %d differs from the image's USER %s", n, user)
	}

	// The builder's Go is at least the go directive of go.mod.
	goMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(goMod)
	got := regexp.MustCompile(`\bgolang:(\d+(?:\.\d+)*)`).FindStringSubmatch(froms[0])
	if want == nil || got == nil {
		t.Fatalf("cannot compare the builder %q with go.mod's go directive", froms[0])
	}
	if compareVersions(got[1], string(want[1])) < 0 {
		t.Errorf("builder image Go %s is older than go.mod's go %s", got[1], want[1])
	}

	// The image the manifests run is the one the runbook builds.
	image := str(container(t, dep), "image")
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if build := "docker build -f deploy/Dockerfile -t " + image + " ."; !strings.Contains(string(readme), build) {
		t.Errorf("README.md does not give the build command %q", build)
	}
}

func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// quantity parses a Kubernetes memory quantity ("256Mi", "2Gi", "1G",
// "1048576") into bytes.
func quantity(t *testing.T, q string) int64 {
	t.Helper()
	return withUnit(t, q, map[string]int64{
		"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
	})
}

// goMemLimit parses a GOMEMLIMIT value ("1800MiB", "2GiB", "1073741824").
func goMemLimit(t *testing.T, v string) int64 {
	t.Helper()
	return withUnit(t, v, map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40})
}

func withUnit(t *testing.T, v string, units map[string]int64) int64 {
	t.Helper()
	i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(v)
	}
	n, err := strconv.ParseFloat(v[:i], 64)
	mult, ok := units[v[i:]]
	if err != nil || !ok {
		t.Fatalf("cannot parse the size %q", v)
	}
	return int64(n * float64(mult))
}
