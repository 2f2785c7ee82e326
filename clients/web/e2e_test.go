package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/civic-standards/coverage/clients/web"
	"github.com/civic-standards/coverage/server"
	"github.com/civic-standards/coverage/server/servertest"
)

// The browser tests drive the page in headless Chromium against the real
// server, and hold what the page shows against what the API answers for the
// same settlement.
//
//   - CHROMIUM: the browser's path (default /usr/bin/chromium, Debian's
//     package). Without a browser the tests are skipped, unless
//     COVERAGE_E2E=1 says they must run, as in CI, where they then fail.
//   - E2E_ARTIFACTS: where the screenshots go (default: the test's temporary
//     directory); each path is logged.

const (
	e2eSet        = "jilin"
	e2eSettlement = "changchun"
	// The page maps gaps to this tolerance; the count does not depend on it,
	// but the request is the page's.
	e2eGapToleranceM = 2
)

func chromiumPath(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("CHROMIUM")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("COVERAGE_E2E") == "1" {
			t.Fatalf("COVERAGE_E2E=1 but Chromium was not found at %s (set $CHROMIUM, or apt-get install chromium): %v", bin, err)
		}
		t.Skipf("Chromium not found at %s (set $CHROMIUM, or COVERAGE_E2E=1 to make this a failure): %v", bin, err)
	}
	return path
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startSite serves the page and the API from one real server, as deployed.
func startSite(t *testing.T) string {
	t.Helper()
	srv := servertest.Start(t, server.Config{Web: web.Handler()})
	return "http://" + srv.HTTPAddr()
}

// apiCall calls the REST API directly, bypassing the page.
func apiCall(t *testing.T, method, url string, body any, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s: %s", method, url, resp.Status, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
}

// The API's answers for the sample, as the test reads them.
type apiAnswers struct {
	settlement json.RawMessage
	positions  int
	statuses   map[string]string
	actions    map[string][]string // English texts by rule
	actionsZh  map[string][]string
	stopsGiven int
	gapsTotal  int
	gapsListed int
	stopsAdded int
}

func askAPI(t *testing.T, base string) apiAnswers {
	t.Helper()
	var sample struct {
		Settlement json.RawMessage `json:"settlement"`
	}
	apiCall(t, "GET", base+"/v1/samples/"+e2eSet+"/settlements/"+e2eSettlement, nil, &sample)
	var typed struct {
		BusStopPositions struct {
			Positions []json.RawMessage `json:"positions"`
		} `json:"busStopPositions"`
	}
	if err := json.Unmarshal(sample.Settlement, &typed); err != nil {
		t.Fatal(err)
	}
	a := apiAnswers{settlement: sample.Settlement, positions: len(typed.BusStopPositions.Positions),
		statuses: map[string]string{}, actions: map[string][]string{}, actionsZh: map[string][]string{}}

	var audit struct {
		Results []struct {
			RuleID  string `json:"ruleId"`
			Status  string `json:"status"`
			Actions []struct {
				Text   string `json:"text"`
				TextZh string `json:"textZh"`
			} `json:"actions"`
		} `json:"results"`
		BusStopCoverage struct {
			StopsGiven int `json:"stopsGiven"`
		} `json:"busStopCoverage"`
	}
	body := map[string]any{"rulesetId": "jilin-2014", "settlement": sample.Settlement}
	apiCall(t, "POST", base+"/v1/audit", body, &audit)
	for _, r := range audit.Results {
		a.statuses[r.RuleID] = r.Status
		for _, act := range r.Actions {
			a.actions[r.RuleID] = append(a.actions[r.RuleID], act.Text)
			a.actionsZh[r.RuleID] = append(a.actionsZh[r.RuleID], act.TextZh)
		}
	}
	a.stopsGiven = audit.BusStopCoverage.StopsGiven

	var gaps struct {
		GapsTotal int               `json:"gapsTotal"`
		Gaps      []json.RawMessage `json:"gaps"`
	}
	apiCall(t, "POST", base+"/v1/gaps/bus-stop-coverage",
		map[string]any{"rulesetId": "jilin-2014", "settlement": sample.Settlement, "toleranceM": e2eGapToleranceM}, &gaps)
	a.gapsTotal, a.gapsListed = gaps.GapsTotal, len(gaps.Gaps)

	var plan struct {
		StopsAdded int `json:"stopsAdded"`
	}
	apiCall(t, "POST", base+"/v1/plan/bus-stops",
		map[string]any{"rulesetId": "jilin-2014", "settlement": sample.Settlement}, &plan)
	a.stopsAdded = plan.StopsAdded
	return a
}

// browser starts headless Chromium with a fresh profile, in English, at a
// laptop's screen size, and collects the page's console errors and uncaught
// exceptions, which fail the test: a script refused by the
// Content-Security-Policy shows up there.
func browser(t *testing.T, bin string) (context.Context, func() []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("no-sandbox", true), // CI runs as root in a container
		chromedp.WindowSize(1366, 768),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	var (
		mu       sync.Mutex
		problems []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// Refused requests (the 400 the test provokes) are logged by the
			// network source; the page shows them, they are not failures.
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != string(log.EntrySourceNetwork)) {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()
	if err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, log.Enable, cdp.Empty{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, runtime.Enable, cdp.Empty{})
			return err
		}),
		chromedp.EmulateViewport(1366, 768),
	); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	// Each test gets at most this long in the browser; the first Do above
	// started it, so the deadline bounds the steps, not the browser's life.
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return tctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// waitJS polls a JavaScript expression until it is true, and gives up at
// once when the page reports that a script failed (see static/js/boot.js),
// rather than at the timeout.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[string](fmt.Sprintf(`document.body && document.body.dataset.failed ? "failed: " + document.body.dataset.failed : ((%s) ? "ok" : false)`, expr),
		chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		v, err := poll(ctx, tg)
		if err != nil {
			return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", expr, err)
		}
		if v != "ok" {
			return chromedp.Void{}, fmt.Errorf("waiting for %s: the page %s", expr, v)
		}
		return chromedp.Void{}, nil
	}
}

// eval runs JavaScript for its effect.
func eval(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expr)
}

// choose sets a select's value and fires its change event, as a user's
// choice does.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return eval(fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.value = %q;
		if (el.value !== %q) throw new Error("no option " + %q + " in " + %q);
		el.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, sel, value, value, value, sel))
}

func jsValue[T any](ctx context.Context, t *testing.T, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

var englishStatus = map[string]string{
	"STATUS_COMPLIANT":         "Compliant",
	"STATUS_NON_COMPLIANT":     "Non-compliant",
	"STATUS_NOT_APPLICABLE":    "Not applicable",
	"STATUS_INSUFFICIENT_DATA": "Insufficient data",
	"STATUS_INFORMATIONAL":     "Informational",
	"STATUS_NOT_COMPUTED":      "Not computed",
}

func TestBrowserChangchun(t *testing.T) {
	bin := chromiumPath(t)
	start := time.Now()
	base := startSite(t)
	want := askAPI(t, base)
	t.Logf("the API's answers took %s", time.Since(start).Round(time.Millisecond))
	artifacts := artifactsDir(t)
	ctx, problems := browser(t, bin)

	// Load the page and the sample.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		waitJS(`document.body.dataset.ready === "true"`),
		choose("#ruleset", "jilin-2014"),
		choose("#sample-set", e2eSet),
		choose("#sample-settlement", e2eSettlement),
		chromedp.Click(chromedp.ID("load-sample")),
		waitJS(fmt.Sprintf(`document.getElementById("map").dataset.renderMs !== undefined && document.getElementById("map").dataset.stopsDrawn === "%d"`, want.positions)),
	); err != nil {
		t.Fatalf("loading %s/%s: %v (page problems: %v)", e2eSet, e2eSettlement, err, problems())
	}
	t.Logf("map of %d stops drawn in %s ms to the painted frame, %s ms of it in the map's script", want.positions,
		jsValue[string](ctx, t, `document.getElementById("map").dataset.renderMs`),
		jsValue[string](ctx, t, `document.getElementById("map").dataset.renderScriptMs`))

	// (b) Every position given is on the map, and the API counted the same
	// stops; at the first view, the canvas painted most of them (the rest
	// lie outside the view of the central area).
	drawn := jsValue[int](ctx, t, `Number(document.getElementById("map").dataset.stopsDrawn)`)
	painted := jsValue[int](ctx, t, `Number(document.getElementById("map").dataset.stopsPainted)`)
	if drawn != want.positions || want.stopsGiven != want.positions {
		t.Errorf("stops: %d drawn, %d positions in the sample, the API counted %d given", drawn, want.positions, want.stopsGiven)
	}
	if painted < drawn/2 || painted > drawn {
		t.Errorf("stops: %d painted in the first view of %d drawn", painted, drawn)
	}
	t.Logf("%d of %d stops in the first view", painted, drawn)
	if want.positions != 17824 {
		t.Errorf("the Changchun sample has %d stop positions, want 17,824", want.positions)
	}

	// Run the audit; the gap map and the plan follow it.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("run")),
		waitJS(`Number(document.getElementById("verdicts").dataset.rows) > 0`),
		waitJS(`document.getElementById("gap-count").dataset.count !== undefined`),
		waitJS(`document.getElementById("plan-summary").dataset.count !== undefined`),
		waitJS(`document.body.dataset.busy === "false"`),
	); err != nil {
		t.Fatalf("audit: %v (page problems: %v)", err, problems())
	}
	t.Logf("the page showed the audit, the gaps and the plan after %s", time.Since(start).Round(time.Millisecond))

	// (a) Each rule's verdict, as data and as the words shown, is the API's.
	type row struct {
		Rule, Status, Text, Icon string
		Actions                  []string
	}
	rowsJS := `[...document.querySelectorAll("#verdicts tbody tr")].map(tr => ({
		Rule: tr.dataset.ruleId, Status: tr.dataset.status,
		Text: tr.querySelector(".verdict-text").textContent,
		Icon: tr.querySelector(".verdict-icon").textContent,
		Actions: [...tr.querySelectorAll(".actions li")].map(li => li.textContent)}))`
	shown := jsValue[[]row](ctx, t, rowsJS)
	if len(shown) != len(want.statuses) {
		t.Errorf("the table shows %d rules, the API returned %d", len(shown), len(want.statuses))
	}
	sawStopRule := false
	for _, r := range shown {
		api, ok := want.statuses[r.Rule]
		switch {
		case !ok:
			t.Errorf("rule %s is shown but not in the API's answer", r.Rule)
		case r.Status != api || r.Text != englishStatus[api]:
			t.Errorf("rule %s: the page shows %s (%q), the API says %s", r.Rule, r.Status, r.Text, api)
		case r.Icon == "":
			t.Errorf("rule %s: no icon beside the status", r.Rule)
		case strings.Join(r.Actions, "\n") != strings.Join(want.actions[r.Rule], "\n"):
			t.Errorf("rule %s: the page shows the actions %q, the API gave %q", r.Rule, r.Actions, want.actions[r.Rule])
		}
		if r.Rule == "T18-STOP-COVERAGE-300M" {
			sawStopRule = true
			t.Logf("T18-STOP-COVERAGE-300M: %s", r.Text)
		}
	}
	if !sawStopRule {
		t.Error("the table has no row for T18-STOP-COVERAGE-300M")
	}

	// Every control, the map and the table have an accessible name, as a
	// screen reader would announce them.
	unnamed, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]string, error) {
		tree, err := cdp.Call(ctx, tg, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		if err != nil {
			return nil, err
		}
		var out []string
		named := map[string]bool{"button": true, "checkbox": true, "combobox": true, "textbox": true, "link": true,
			"application": true, "table": true, "listbox": true, "spinbutton": true, "radio": true}
		for _, n := range tree.Nodes {
			if n.Ignored || n.Role == nil {
				continue
			}
			var role, name string
			_ = json.Unmarshal(n.Role.Value, &role)
			if n.Name != nil {
				_ = json.Unmarshal(n.Name.Value, &name)
			}
			if named[role] && strings.TrimSpace(name) == "" {
				out = append(out, fmt.Sprintf("%s (DOM node %d)", role, n.BackendDOMNodeID))
			}
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(unnamed) > 0 {
		t.Errorf("elements without an accessible name: %v", unnamed)
	}

	// (c) The gap count shown and the gaps drawn are the API's.
	gapCount := jsValue[int](ctx, t, `Number(document.getElementById("gap-count").dataset.count)`)
	gapsDrawn := jsValue[int](ctx, t, `document.querySelectorAll("#map path.gap").length`)
	if gapCount != want.gapsTotal || gapsDrawn != want.gapsListed {
		t.Errorf("gaps: %d shown and %d drawn; the API found %d and listed %d", gapCount, gapsDrawn, want.gapsTotal, want.gapsListed)
	}
	if want.gapsTotal == 0 {
		t.Error("the API found no gaps in Changchun, whose coverage is below 100%")
	}
	if text := jsValue[string](ctx, t, `document.getElementById("gap-count").textContent`); !strings.Contains(text, fmt.Sprint(want.gapsTotal)) {
		t.Errorf("gap count text %q does not say %d", text, want.gapsTotal)
	}

	// The plan's stops are off the map until toggled on, then all there.
	if n := jsValue[int](ctx, t, `document.querySelectorAll("#map .planned-stop").length`); n != 0 {
		t.Errorf("%d suggested stops drawn before the toggle", n)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("show-plan")),
		waitJS(`document.querySelectorAll("#map .planned-stop").length > 0`)); err != nil {
		t.Fatal(err)
	}
	planned := jsValue[int](ctx, t, `document.querySelectorAll("#map .planned-stop").length`)
	listed := jsValue[int](ctx, t, `document.querySelectorAll("#plan-list li").length`)
	if planned != want.stopsAdded || listed != want.stopsAdded || want.stopsAdded == 0 {
		t.Errorf("suggested stops: %d drawn, %d listed; the API added %d", planned, listed, want.stopsAdded)
	}

	// (e) Screenshots: the laptop screen as first seen, and the whole page.
	if err := chromedp.Do(ctx, eval(`document.activeElement.blur(); document.querySelector(".input-panel").scrollTop = 0; window.scrollTo(0, 0)`)); err != nil {
		t.Fatal(err)
	}
	screen, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	full, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	save := func(name string, data []byte) {
		p := filepath.Join(artifacts, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
	save("changchun-en-1366x768.png", screen)
	save("changchun-en-full.png", full)

	// Keyboard: the map zooms with + once it has the focus, and 0 fits it
	// back.
	view := func() [3]float64 {
		return jsValue[[3]float64](ctx, t, `document.querySelector("#map g.view").getAttribute("transform").slice(7, -1).split(" ").map(Number).filter((_, i) => i === 0 || i >= 4)`)
	}
	fitted := view()
	if err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.ID("map")),
		chromedp.KeyEvent("+"),
		waitJS(fmt.Sprintf(`Number(document.querySelector("#map g.view").getAttribute("transform").split(/[( ]/)[1]) > %g * 1.4`, fitted[0])),
		chromedp.KeyEvent("0"),
		waitJS(fmt.Sprintf(`Math.abs(Number(document.querySelector("#map g.view").getAttribute("transform").split(/[( ]/)[1]) / %g - 1) < 1e-6`, fitted[0])),
	); err != nil {
		t.Errorf("keyboard zoom from %v: %v (now %v)", fitted, err, view())
	}
	// Mouse: a drag pans by as much as the pointer moved, and the wheel
	// zooms.
	box := jsValue[[2]float64](ctx, t, `(() => { const r = document.getElementById("map").getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	x, y := box[0], box[1]
	if err := chromedp.Do(ctx,
		chromedp.MouseEvent(chromedp.MouseMoved, x, y),
		chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, func(p *input.DispatchMouseEventParams) { p.ClickCount = 1; p.Buttons = 1 }),
		chromedp.MouseEvent(chromedp.MouseMoved, x+60, y+20, chromedp.ButtonLeft, func(p *input.DispatchMouseEventParams) { p.Buttons = 1 }),
		chromedp.MouseEvent(chromedp.MouseMoved, x+120, y+40, chromedp.ButtonLeft, func(p *input.DispatchMouseEventParams) { p.Buttons = 1 }),
		chromedp.MouseEvent(chromedp.MouseReleased, x+120, y+40, chromedp.ButtonLeft, func(p *input.DispatchMouseEventParams) { p.ClickCount = 1 }),
		waitJS(fmt.Sprintf(`Math.abs(Number(document.querySelector("#map g.view").getAttribute("transform").slice(7, -1).split(" ")[4]) - %g - 120) < 0.5`, fitted[1])),
		// The protocol requires deltaX on a wheel event, and the encoder leaves
		// out a zero; a negligible one goes through.
		chromedp.MouseEvent(chromedp.MouseWheel, x, y, func(p *input.DispatchMouseEventParams) { p.DeltaX, p.DeltaY = 1e-9, -300 }),
		waitJS(fmt.Sprintf(`Number(document.querySelector("#map g.view").getAttribute("transform").split(/[( ]/)[1]) > %g * 1.2`, fitted[0])),
	); err != nil {
		t.Errorf("mouse pan and zoom from %v: %v (now %v)", fitted, err, view())
	}
	t.Logf("a zoom step redraws in %d ms", jsValue[int](ctx, t, `Number(document.getElementById("map").dataset.commitMs)`))

	// (d) Chinese: the labels change, <html lang> follows, and the choice
	// outlives a reload.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("lang")),
		waitJS(`document.documentElement.lang === "zh-CN"`),
	); err != nil {
		t.Fatal(err)
	}
	heading := jsValue[string](ctx, t, `document.getElementById("results-heading").textContent`)
	statusHead := jsValue[string](ctx, t, `document.querySelector("#verdicts thead th:nth-child(2)").textContent`)
	stopStatus := jsValue[string](ctx, t, `document.querySelector('#verdicts tr[data-rule-id="T18-STOP-COVERAGE-300M"] .verdict-text').textContent`)
	if heading != "评估结果" || statusHead != "结论" {
		t.Errorf("after switching to Chinese: heading %q, status column %q", heading, statusHead)
	}
	if zh := map[string]string{"STATUS_NON_COMPLIANT": "未达标", "STATUS_COMPLIANT": "达标"}[want.statuses["T18-STOP-COVERAGE-300M"]]; zh != "" && stopStatus != zh {
		t.Errorf("stop coverage status in Chinese: %q, want %q", stopStatus, zh)
	}
	for _, r := range jsValue[[]row](ctx, t, rowsJS) {
		if strings.Join(r.Actions, "\n") != strings.Join(want.actionsZh[r.Rule], "\n") {
			t.Errorf("rule %s in Chinese: the page shows the actions %q, the API gave %q", r.Rule, r.Actions, want.actionsZh[r.Rule])
		}
	}
	zhShot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	save("changchun-zh-1366x768.png", zhShot)
	if err := chromedp.Do(ctx, chromedp.Reload(), waitJS(`document.body.dataset.ready === "true"`)); err != nil {
		t.Fatal(err)
	}
	if lang := jsValue[string](ctx, t, `document.documentElement.lang`); lang != "zh-CN" {
		t.Errorf("after a reload the page is in %q; the choice of Chinese was not remembered", lang)
	}

	// Every string has its Chinese.
	untranslated, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`import("./js/i18n.js").then(m => m.untranslated())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if len(untranslated) > 0 {
		t.Errorf("strings without Chinese: %v", untranslated)
	}

	if p := problems(); len(p) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(p, "\n"))
	}
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}

// TestBrowserInputs loads settlements from files, and checks that bad input
// is explained, field by field: from the form before anything is sent, from
// a file as it is read, and from the server's refusal.
func TestBrowserInputs(t *testing.T) {
	bin := chromiumPath(t)
	base := startSite(t)
	ctx, problems := browser(t, bin)

	errorsText := func(what string) string {
		t.Helper()
		if err := chromedp.Do(ctx, waitJS(`!document.getElementById("errors").hidden`)); err != nil {
			t.Fatalf("%s: no error shown: %v", what, err)
		}
		return jsValue[string](ctx, t, `document.getElementById("errors").textContent`)
	}
	setField := func(id, value string) chromedp.Action[chromedp.Void] {
		return eval(fmt.Sprintf(`document.getElementById(%q).value = %q`, id, value))
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		waitJS(`document.body.dataset.ready === "true"`),
		setField("f-id", "t1"),
		setField("f-kind", "SETTLEMENT_KIND_TOWN"),
		setField("f-elderlyPopulation", "12x"),
		chromedp.Click(chromedp.ID("run")),
	); err != nil {
		t.Fatal(err)
	}
	if s := errorsText("a bad figure in the form"); !strings.Contains(s, "elderlyPopulation") || !strings.Contains(s, "12x") {
		t.Errorf("a bad figure in the form: the error says %q", s)
	}
	if v := jsValue[string](ctx, t, `document.getElementById("f-elderlyPopulation").getAttribute("aria-invalid")`); v != "true" {
		t.Errorf("the bad field is not marked aria-invalid")
	}

	// A figure the client cannot judge goes to the server, whose field
	// violation is shown with its field and reason.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("errors-dismiss")),
		setField("f-elderlyPopulation", "-5"),
		chromedp.Click(chromedp.ID("run")),
	); err != nil {
		t.Fatal(err)
	}
	if s := errorsText("a refused request"); !strings.Contains(s, "settlement.elderlyPopulation") || !strings.Contains(s, "400") || !strings.Contains(s, "negative") {
		t.Errorf("a refused request: the error says %q", s)
	}

	// A CSV row with a bad cell names the line and the column.
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(csvPath, []byte("id,name,kind,urbanPopulation\nx1,X,SETTLEMENT_KIND_CITY,lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{csvPath})); err != nil {
		t.Fatal(err)
	}
	if s := errorsText("a bad CSV cell"); !strings.Contains(s, "urbanPopulation") || !strings.Contains(s, "line 2") || !strings.Contains(s, "lots") {
		t.Errorf("a bad CSV cell: the error says %q", s)
	}

	// A GeoJSON Feature loads, its polygon drawn as the central area and its
	// stops as stops.
	geoPath := filepath.Join(dir, "town.geojson")
	feature := `{"type":"Feature","properties":{"id":"t2","name":"Town","kind":"SETTLEMENT_KIND_TOWN","busStops":{"type":"MultiPoint","coordinates":[[125.30,43.88],[125.31,43.885]]}},` +
		`"geometry":{"type":"Polygon","coordinates":[[[125.29,43.87],[125.32,43.87],[125.32,43.89],[125.29,43.89],[125.29,43.87]]]}}`
	if err := os.WriteFile(geoPath, []byte(feature), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{geoPath}),
		waitJS(`document.getElementById("map").dataset.stopsDrawn === "2" && document.getElementById("errors").hidden`),
	); err != nil {
		t.Errorf("a GeoJSON Feature: %v", err)
	}
	if d := jsValue[string](ctx, t, `document.querySelector("#map path.area-outline").getAttribute("d")`); !strings.HasPrefix(d, "M") {
		t.Errorf("the Feature's polygon is not drawn (d=%q)", d)
	}
	// The sample set's CSV: one settlement per row, to choose from, with
	// its figures in the form.
	csvSample, err := filepath.Abs("../../samples/jilin/settlements.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{csvSample}),
		waitJS(`document.getElementById("file-row").options.length > 1 && !document.getElementById("file-choice").hidden`),
		choose("#file-row", "0"),
		waitJS(`document.getElementById("f-id").value === "changchun"`),
	); err != nil {
		t.Fatalf("the sample CSV: %v", err)
	}
	if n := jsValue[int](ctx, t, `document.getElementById("file-row").options.length`); n != 154 {
		t.Errorf("the sample CSV offers %d settlements, want 154", n)
	}
	if v := jsValue[string](ctx, t, `document.getElementById("f-urbanPopulation").value + " " + document.getElementById("f-busFleet-vehicles").value`); v != "3425890 LENGTH_10_13M:4200;LENGTH_7_10M:700;LENGTH_16_18M:120;LENGTH_5_7M:150" {
		t.Errorf("Changchun's row in the form: %q", v)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(p, "\n"))
	}
}
