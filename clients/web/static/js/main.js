// The page: choose a ruleset, load a settlement (a bundled sample, a file or
// the form), audit it, and show the verdicts, the coverage map with its gaps
// and the stops a plan would add.

import * as api from "./api.js";
import { ApiError } from "./api.js";
import { t, has, fmt, pct, setLanguage, initialLanguage, language, onLanguageChange } from "./i18n.js";
import { FORM_GROUPS, FIELD_TYPES, ENUMS } from "./fields.js";
import { InputError, readSettlements, parseCell, getPath, deletePath, setPath } from "./parse.js";
import { areaPolygons, stopPositions, hasGeometry, toWgs84 } from "./geo.js";
import { MapView, niceScale } from "./map.js";
import { renderVerdicts, countsText, h } from "./table.js";

const $ = (id) => document.getElementById(id);

// Outlines of gaps are drawn to 2 m: below a pixel at any zoom a city fits
// in, and a fraction of the vertices of the 1 m default.
const GAP_TOLERANCE_M = 2;
const GAP_LIST = 10;
const MAX_FILE_BYTES = 64 * 1024 * 1024;

const state = {
  rulesets: [],
  ruleset: null,
  samples: [],
  settlement: null,
  source: null, // {key, params} saying where the settlement came from
  fileRows: [],
  fileName: "",
  audit: null,
  gaps: null,
  plan: null,
  run: 0, // responses of an earlier run than this are dropped
  status: {}, // part → {key, params, busy}
  errors: [],
  renderMs: null,
};

let map;

// ---------------------------------------------------------------- status and errors

function setStatus(part, key, params = {}, busy = false) {
  // The language notice is news only until the next thing happens.
  if (part !== "lang") delete state.status.lang;
  if (key) state.status[part] = { key, params, busy };
  else delete state.status[part];
  renderStatus();
}

function renderStatus() {
  const parts = Object.values(state.status);
  const el = $("status");
  el.textContent = parts.map((p) => t(p.key, typeof p.params === "function" ? p.params() : p.params)).join(" ");
  el.classList.toggle("busy", parts.some((p) => p.busy));
  document.body.dataset.busy = String(parts.some((p) => p.busy));
}

function showError(err) {
  state.errors.push(err);
  renderErrors();
}

function clearErrors() {
  state.errors = [];
  renderErrors();
  for (const el of document.querySelectorAll("[aria-invalid='true']")) el.removeAttribute("aria-invalid");
  for (const el of document.querySelectorAll(".field-error")) {
    el.textContent = "";
    el.hidden = true;
  }
}

function problemText(p) {
  if (p.code === "csvUnknownColumn" && p.params.hint) return t("err.csvUnknownColumnHint", p.params);
  return t(`err.${p.code}`, p.params);
}

function placeText(w) {
  return w && typeof w === "object" ? t("atLine", { n: w.line }) : String(w || "");
}

function problemItem(p) {
  const li = h("li");
  if (p.where) li.append(`${placeText(p.where)}: `);
  if (p.field) li.append(h("code", {}, p.field), ": ");
  li.append(problemText(p));
  return li;
}

function errorBlock(err) {
  const div = h("div", { class: "error" });
  if (err instanceof ApiError) {
    if (err.kind === "network") div.append(h("p", {}, t("errNetwork", { route: err.route, message: err.message })));
    else if (err.kind === "notJSON") div.append(h("p", {}, t("errNotJSONResponse", { route: err.route, status: err.status })));
    else div.append(h("p", {}, t("errApi", { route: err.route, status: err.status, code: err.code, message: err.message })));
    if (err.violations.length) {
      div.append(
        h(
          "ul",
          {},
          err.violations.map((v) => h("li", {}, h("code", {}, v.field || t("none")), ": ", h("span", { lang: "en" }, v.description))),
        ),
      );
    }
  } else if (err instanceof InputError) {
    div.append(h("p", {}, err.fileName ? `${err.fileName} — ${t("errInput")}` : t("errInput")));
    div.append(h("ul", {}, err.problems.map(problemItem)));
  } else if (err && err.formProblems) {
    div.append(h("p", {}, t("errForm")));
    div.append(h("ul", {}, err.formProblems.map((p) => problemItem({ ...p, field: t(`fields.${p.field}`) === `fields.${p.field}` ? p.field : `${t(`fields.${p.field}`)} (${p.field})` }))));
  } else {
    div.append(h("p", {}, String(err && err.message ? err.message : err)));
  }
  return div;
}

function renderErrors() {
  const box = $("errors");
  const body = box.querySelector(".errors-body");
  if (!state.errors.length) {
    box.hidden = true;
    body.replaceChildren();
    return;
  }
  body.replaceChildren(h("h3", {}, t("errTitle")), ...state.errors.map(errorBlock));
  box.hidden = false;
}

// ---------------------------------------------------------------- form

const controls = new Map(); // field → control element

function controlId(field) {
  return "f-" + field.replace(/\./g, "-");
}

function buildForm() {
  const root = $("form-fields");
  for (const [group, fields] of FORM_GROUPS) {
    const fs = h("fieldset", {}, h("legend", { "data-i18n": `groups.${group}` }, t(`groups.${group}`)));
    for (const field of fields) {
      const type = FIELD_TYPES.get(field);
      const id = controlId(field);
      const wrap = h("div", { class: "field" });
      wrap.append(h("label", { for: id, "data-i18n": `fields.${field}` }, t(`fields.${field}`)));
      let control;
      if (type.startsWith("enum:")) {
        const enumName = type.slice(5);
        const table = enumName === "SettlementKind" ? "kinds" : "crs";
        control = h("select", { id, name: field });
        control.append(h("option", { value: "", "data-i18n": "unknown" }, t("unknown")));
        for (const v of ENUMS[enumName].slice(1)) control.append(h("option", { value: v, "data-i18n": `${table}.${v}` }, t(`${table}.${v}`)));
      } else if (type === "bool") {
        control = h("select", { id, name: field });
        control.append(h("option", { value: "", "data-i18n": "unknown" }, t("unknown")));
        control.append(h("option", { value: "true", "data-i18n": "yes" }, t("yes")));
        control.append(h("option", { value: "false", "data-i18n": "no" }, t("no")));
      } else {
        const inputmode = type === "int64" ? "numeric" : type === "double" ? "decimal" : undefined;
        control = h("input", { id, name: field, type: "text", inputmode, autocomplete: "off", spellcheck: "false" });
      }
      const errId = `${id}-error`;
      control.setAttribute("aria-describedby", errId);
      wrap.append(control, h("p", { id: errId, class: "field-error", hidden: "" }));
      controls.set(field, control);
      fs.append(wrap);
    }
    root.append(fs);
  }
}

function vehiclesText(groups) {
  return (groups || [])
    .map((g) => `${g.vehicleClass || ""}${g.lengthM !== undefined && g.lengthM !== null ? "@" + g.lengthM : ""}:${g.count}`)
    .join(";");
}

function fillForm(s) {
  for (const [field, control] of controls) {
    const type = FIELD_TYPES.get(field);
    let v = getPath(s || {}, field);
    if (type === "vehicles") v = v && v.length ? vehiclesText(v) : "";
    else if (type.startsWith("enum:") && typeof v === "number") v = ENUMS[type.slice(5)][v];
    if (type.startsWith("enum:") && typeof v === "string" && v.endsWith("_UNSPECIFIED")) v = "";
    control.value = v === undefined || v === null ? "" : String(v);
  }
}

// readForm applies the form to a copy of the loaded settlement: fields not
// on the form (the geometry, population points) are kept as loaded.
function readForm() {
  const s = state.settlement ? structuredClone(state.settlement) : {};
  const problems = [];
  for (const [field, control] of controls) {
    const type = FIELD_TYPES.get(field);
    const raw = control.value.trim();
    if (raw === "") {
      deletePath(s, field);
      continue;
    }
    try {
      setPath(s, field, parseCell(type, raw));
    } catch (p) {
      if (!p || !p.code) throw p;
      problems.push({ ...p, field });
    }
  }
  if (s.busFleet && s.busFleet.vehicles !== undefined && s.busFleet.standardUnits !== undefined) {
    problems.push({ field: "busFleet.standardUnits", code: "fleetBoth", params: {} });
  }
  return { settlement: s, problems };
}

function readOptions() {
  const opts = {};
  const problems = [];
  const target = $("opt-target").value.trim();
  if (target) {
    const n = Number(target);
    if (!Number.isFinite(n) || n <= 0 || n > 100) problems.push({ field: "targetShare", control: $("opt-target"), code: "percent", params: { value: target } });
    else opts.targetShare = n / 100;
  }
  const maxStops = $("opt-max-stops").value.trim();
  if (maxStops) {
    const n = Number(maxStops);
    if (!Number.isInteger(n) || n <= 0) problems.push({ field: "maxStops", control: $("opt-max-stops"), code: "positive", params: { value: maxStops } });
    else opts.maxStops = n;
  }
  const grid = $("opt-grid").value.trim();
  if (grid) {
    const n = Number(grid);
    if (!Number.isFinite(n) || n <= 0) problems.push({ field: "gridSpacingM", control: $("opt-grid"), code: "positiveNumber", params: { value: grid } });
    else opts.gridSpacingM = n;
  }
  return { opts, problems };
}

function markField(control, message) {
  control.setAttribute("aria-invalid", "true");
  const err = document.getElementById(`${control.id}-error`) || document.getElementById(`${control.id}-hint`);
  if (err && err.classList.contains("field-error")) {
    err.textContent = message;
    err.hidden = false;
  }
}

function showFormProblems(problems) {
  let first = null;
  for (const p of problems) {
    const control = p.control || controls.get(p.field);
    if (!control) continue;
    markField(control, problemText(p));
    if (control.closest("details")) control.closest("details").open = true;
    first = first || control;
  }
  showError({ formProblems: problems.map(({ control, ...p }) => p) });
  if (first) first.focus();
}

// The server names fields as settlement.x.y[i].z; those on the form are
// marked there as well as listed.
function markApiViolations(err) {
  if (!(err instanceof ApiError)) return;
  let first = null;
  for (const v of err.violations) {
    const path = v.field.replace(/^settlement\./, "").replace(/\[\d+\].*$/, "");
    const control = controls.get(path) || controls.get(path.split(".").slice(0, 2).join("."));
    if (control) {
      markField(control, v.description);
      control.closest("details").open = true;
      first = first || control;
    }
  }
  if (first) first.focus();
}

// ---------------------------------------------------------------- settlement

function cleanNulls(v) {
  if (Array.isArray(v)) return v.map(cleanNulls);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = cleanNulls(x);
    return out;
  }
  return v;
}

function loadSettlement(s, source) {
  state.settlement = s;
  state.source = source;
  state.run++; // whatever was in flight was for another settlement
  state.audit = state.gaps = state.plan = null;
  clearErrors();
  setStatus("gaps", null);
  setStatus("plan", null);
  fillForm(s);
  drawMap();
  renderLoaded();
  renderResults();
}

function ringVertices(polygons) {
  let n = 0;
  for (const rings of polygons) for (const r of rings) n += Math.max(0, r.length - 1);
  return n;
}

function renderLoaded() {
  const el = $("loaded-summary");
  const s = state.settlement;
  if (!s) {
    el.textContent = t("loadedNone");
    return;
  }
  const g = hasGeometry(s);
  const { polygons, stops } = state.geometry || { polygons: [], stops: { count: 0 } };
  const vertices = ringVertices(polygons);
  const geometry = g.area && g.stops ? t("geomBoth", { vertices: fmt(vertices, 0), stops: fmt(stops.count, 0) })
    : g.area ? t("geomArea", { vertices: fmt(vertices, 0) })
    : g.stops ? t("geomStops", { stops: fmt(stops.count, 0) })
    : t("geomNone");
  const kind = s.kind ? t(`kinds.${typeof s.kind === "number" ? ENUMS.SettlementKind[s.kind] : s.kind}`) : t("kinds.SETTLEMENT_KIND_UNSPECIFIED");
  el.replaceChildren(t("loaded", { name: s.name || s.id || "?", kind, geometry }));
  if (state.source) {
    const params = { ...state.source.params };
    if ("where" in params) params.where = placeText(params.where);
    el.append(h("span", { class: "source" }, t("loadedFrom", { source: t(state.source.key, params) })));
  }
}

function radius() {
  const bc = state.audit && state.audit.busStopCoverage;
  if (bc && bc.radiusM) return bc.radiusM;
  const rule = ((state.ruleset && state.ruleset.rules) || []).find((r) => r.metric === "METRIC_STOP_COVERAGE_SHARE");
  return (rule && rule.radiusM) || 300;
}

// drawMap converts the settlement's geometry to WGS-84 once and draws it;
// the summary and the legend reuse the converted geometry.
function drawMap() {
  const s = state.settlement || {};
  state.geometry = { polygons: areaPolygons(s), stops: stopPositions(s) };
  state.stopsDrawn = state.geometry.stops.count;
  map.setSettlement(state.geometry.polygons, state.geometry.stops, radius()).then((ms) => {
    state.renderMs = ms;
    renderMapText();
  });
  renderMapText();
}

// ---------------------------------------------------------------- results

function km2(m2) {
  return fmt(m2 / 1e6, m2 < 1e5 ? 3 : 2);
}

function whereText(centroid, crs) {
  if (!centroid) return t("none");
  let { lon, lat } = centroid;
  const conv = toWgs84(crs);
  if (conv) [lon, lat] = conv(lon, lat);
  return t("where", { lon: lon.toFixed(3), lat: lat.toFixed(3) });
}

function renderResults() {
  renderVerdicts($("verdicts"), state.audit, state.ruleset);
  $("counts").textContent = state.audit ? countsText(state.audit.counts) : "";
  renderGaps();
  renderPlan();
  renderMapText();
}

function renderGaps() {
  const count = $("gap-count");
  const list = $("gap-list");
  const g = state.gaps;
  map.setGaps(g, (gap) => `#${gap.rank} · ${km2(gap.areaM2)} ${t("unitKm2")}`);
  if (!g) {
    count.textContent = t("gapsNone");
    delete count.dataset.count;
    list.replaceChildren();
    return;
  }
  const total = g.gapsTotal || 0;
  count.dataset.count = String(total);
  count.textContent = total ? t("gapCount", { count: fmt(total, 0), area: km2(g.uncoveredAreaM2 || 0) }) : t("gapsNoGaps");
  const gaps = g.gaps || [];
  const items = gaps.slice(0, GAP_LIST).map((gap) => {
    const label = t("gapItem", { rank: gap.rank, area: km2(gap.areaM2), share: pct(gap.shareOfArea), where: whereText(gap.centroid, g.crs) });
    const b = h(
      "button",
      { type: "button", "aria-label": label },
      h("span", { class: "rank" }, `#${gap.rank}`),
      `${km2(gap.areaM2)} ${t("unitKm2")} `,
      h("span", { class: "gain" }, `(${pct(gap.shareOfArea)})`),
    );
    b.addEventListener("click", () => centreOn(gap.centroid, g.crs));
    return h("li", {}, b);
  });
  if (gaps.length > GAP_LIST || total > GAP_LIST) items.push(h("li", { class: "hint" }, t("gapsMore", { n: fmt(total - Math.min(GAP_LIST, gaps.length), 0) })));
  list.replaceChildren(...items);
}

function renderPlan() {
  const summary = $("plan-summary");
  const list = $("plan-list");
  const toggle = $("show-plan");
  const p = state.plan;
  map.setPlan(p);
  if (!p) {
    summary.textContent = t("planNone");
    delete summary.dataset.count;
    list.replaceChildren();
    toggle.disabled = true;
    return;
  }
  toggle.disabled = false;
  const count = p.stopsAdded || 0;
  summary.dataset.count = String(count);
  summary.replaceChildren(
    t("planSummary", {
      count: fmt(count, 0),
      before: pct(p.before && p.before.coverageShare),
      final: pct(p.finalShare),
      target: pct(p.targetShare),
      reached: p.reached ? t("planReached") : t("planNotReached", { stopped: has(`stopped.${p.stopped}`) ? t(`stopped.${p.stopped}`) : p.stopped }),
    }),
  );
  if (p.lowerBound || p.guarantee) {
    summary.append(
      h(
        "details",
        { class: "plan-about" },
        h("summary", {}, t("planAbout")),
        p.lowerBound ? h("p", {}, t("planLowerBound", { n: fmt(p.lowerBound, 0) })) : null,
        p.guarantee ? h("p", { lang: "en" }, p.guarantee) : null,
      ),
    );
  }
  const items = (p.addedStops || []).map((stop, i) => {
    const [lon, lat] = stop.position || [0, 0];
    const label = t("planItem", {
      n: i + 1,
      share: pct(stop.coverageShare),
      gain: fmt((stop.gainM2 || 0) / 1e4, 1),
      lon: Number(lon).toFixed(4),
      lat: Number(lat).toFixed(4),
    });
    const b = h(
      "button",
      { type: "button", "aria-label": label },
      h("span", { class: "order" }, String(i + 1)),
      pct(stop.coverageShare),
      " ",
      h("span", { class: "gain" }, `+${fmt((stop.gainM2 || 0) / 1e4, 1)} ${t("unitHa")}`),
    );
    b.addEventListener("click", () => {
      if (!toggle.checked) {
        toggle.checked = true;
        map.setShowPlan(true);
      }
      centreOn({ lon, lat }, p.crs);
    });
    return h("li", {}, b);
  });
  list.replaceChildren(...items);
}

function centreOn(lonlat, crs) {
  if (!lonlat || !map.proj) return;
  let { lon, lat } = lonlat;
  const conv = toWgs84(crs);
  if (conv) [lon, lat] = conv(lon, lat);
  map.centreOn(lon, lat);
  $("map").focus();
}

function renderMapText() {
  const parts = [];
  const bc = state.audit && state.audit.busStopCoverage;
  const drawn = map && map.proj;
  if (bc && drawn) {
    parts.push(
      t("mapSummary", {
        area: fmt(bc.totalAreaKm2, 1),
        stops: fmt(state.stopsDrawn || 0, 0),
        used: fmt(bc.stopsUsed || 0, 0),
        share: pct(bc.coverageShare),
        radius: fmt(bc.radiusM, 0),
        threshold: bc.threshold !== undefined && bc.threshold !== null ? pct(bc.threshold, 0) : t("noThreshold"),
      }),
    );
  } else if (drawn) {
    parts.push(t("mapSummaryNoAudit", { stops: fmt(state.stopsDrawn || 0, 0) }));
  }
  const g = state.gaps;
  if (g && g.gapsTotal && g.gaps && g.gaps.length) {
    parts.push(
      t("mapSummaryGaps", {
        count: fmt(g.gapsTotal, 0),
        area: km2(g.uncoveredAreaM2 || 0),
        largest: km2(g.gaps[0].areaM2),
        where: whereText(g.gaps[0].centroid, g.crs),
      }),
    );
  }
  const p = state.plan;
  if (p && p.stopsAdded) parts.push(t("mapSummaryPlan", { count: fmt(p.stopsAdded, 0), share: pct(p.finalShare) }));
  const el = $("map-summary");
  el.replaceChildren(parts.join(" "));
  if (drawn && state.renderMs !== null) el.append(" ", h("span", { class: "timing" }, t("mapDrawn", { ms: fmt(state.renderMs, 0) })));
  renderLegend();
}

function renderLegend() {
  const r = fmt(radius(), 0);
  $("legend-area").textContent = t("legendArea");
  $("legend-disks").textContent = t("legendDisks", { radius: r });
  $("legend-stops").textContent = t("legendStops");
  $("legend-gaps").textContent = t("legendGaps", { radius: r });
  $("legend-planned").textContent = t("legendPlanned");
}

function renderScale(view) {
  const bar = document.querySelector(".scalebar");
  if (!map || !map.proj) {
    bar.hidden = true;
    return;
  }
  bar.hidden = false;
  const { metres, px } = niceScale(1 / view.s);
  bar.querySelector(".scalebar-bar").style.width = `${Math.round(px)}px`;
  bar.querySelector(".scalebar-label").textContent = metres >= 1000 ? `${fmt(metres / 1000, 1)} ${t("unitKm")}` : `${fmt(metres, 0)} ${t("unitM")}`;
}

// ---------------------------------------------------------------- run

function settlementName(s) {
  return (s && (s.name || s.id)) || "?";
}

async function runAudit(e) {
  e.preventDefault();
  clearErrors();
  const form = readForm();
  const options = readOptions();
  const problems = [...form.problems, ...options.problems];
  if (problems.length) {
    showFormProblems(problems);
    return;
  }
  const before = state.settlement;
  state.settlement = form.settlement;
  if (!before || before.centralAreaCrs !== form.settlement.centralAreaCrs || before.busStopsCrs !== form.settlement.busStopsCrs) drawMap();
  renderLoaded();
  const gen = ++state.run;
  state.audit = state.gaps = state.plan = null;
  renderResults();
  setStatus("gaps", null);
  setStatus("plan", null);
  const name = settlementName(form.settlement);
  setStatus("audit", "auditing", { name }, true);
  const body = { rulesetId: state.ruleset ? state.ruleset.id : "", settlement: cleanNulls(form.settlement) };
  $("run").disabled = true;
  let audit;
  try {
    audit = await api.audit(body);
  } catch (err) {
    if (gen !== state.run) return;
    setStatus("audit", null);
    showError(err);
    markApiViolations(err);
    return;
  } finally {
    $("run").disabled = false;
  }
  if (gen !== state.run) return;
  state.audit = audit;
  map.setRadius(radius());
  renderResults();
  setStatus("audit", "audited", () => ({ counts: countsText(state.audit && state.audit.counts) }));
  const g = hasGeometry(form.settlement);
  if (!(g.area && g.stops)) return;
  runGaps(gen, body);
  runPlan(gen, body, options.opts, audit);
}

async function runGaps(gen, base) {
  setStatus("gaps", "mappingGaps", {}, true);
  try {
    const resp = await api.mapGaps({ ...base, toleranceM: GAP_TOLERANCE_M });
    if (gen !== state.run) return;
    state.gaps = resp;
    renderGaps();
    renderMapText();
    setStatus("gaps", "gapsDone", () => ({ count: fmt((state.gaps && state.gaps.gapsTotal) || 0, 0) }));
  } catch (err) {
    if (gen !== state.run) return;
    setStatus("gaps", null);
    showError(err);
  }
}

async function runPlan(gen, base, opts, audit) {
  const bc = audit.busStopCoverage;
  const hasTarget = opts.targetShare !== undefined || (bc && bc.threshold !== undefined && bc.threshold !== null);
  if (!hasTarget) return;
  setStatus("plan", "planning", {}, true);
  try {
    const resp = await api.planStops({ ...base, ...opts });
    if (gen !== state.run) return;
    state.plan = resp;
    renderPlan();
    renderMapText();
    setStatus("plan", "planDone", () => ({ count: fmt((state.plan && state.plan.stopsAdded) || 0, 0) }));
  } catch (err) {
    if (gen !== state.run) return;
    setStatus("plan", null);
    showError(err);
  }
}

// ---------------------------------------------------------------- sources

function sampleOptionText(s) {
  const kind = t(`kinds.${s.kind}`);
  return s.busStops ? t("sampleOptionStops", { name: s.name, kind, stops: fmt(s.busStops, 0) }) : t("sampleOption", { name: s.name, kind });
}

function fillSampleSettlements() {
  const setName = $("sample-set").value;
  const set = state.samples.find((s) => s.name === setName);
  const sel = $("sample-settlement");
  const previous = sel.value;
  sel.replaceChildren(...((set && set.settlements) || []).map((s) => h("option", { value: s.id }, sampleOptionText(s))));
  if (previous && [...sel.options].some((o) => o.value === previous)) sel.value = previous;
  else if ([...sel.options].some((o) => o.value === "changchun")) sel.value = "changchun";
  $("load-sample").disabled = !sel.options.length;
}

async function loadSamples() {
  setStatus("samples", "loadingSamples", {}, true);
  try {
    const resp = await api.listSamples();
    state.samples = resp.sets || [];
    $("sample-set").replaceChildren(...state.samples.map((s) => h("option", { value: s.name }, s.name)));
    fillSampleSettlements();
    setStatus("samples", null);
  } catch (err) {
    setStatus("samples", null);
    $("load-sample").disabled = true;
    showError(err);
  }
}

async function loadSample() {
  const set = $("sample-set").value;
  const id = $("sample-settlement").value;
  if (!set || !id) return;
  const entry = (state.samples.find((s) => s.name === set) || { settlements: [] }).settlements.find((s) => s.id === id);
  const name = (entry && entry.name) || id;
  clearErrors();
  setStatus("sample", "loadingSample", { name }, true);
  $("load-sample").disabled = true;
  try {
    const resp = await api.getSample(set, id);
    loadSettlement(resp.settlement || {}, { key: "sourceSample", params: { set, name } });
    setStatus("sample", "loadedSample", { name });
  } catch (err) {
    setStatus("sample", null);
    showError(err);
  } finally {
    $("load-sample").disabled = false;
  }
}

function renderFileName() {
  const el = $("file-name");
  if (state.fileName) {
    el.textContent = state.fileName;
    el.removeAttribute("data-i18n");
  } else {
    el.dataset.i18n = "noFile";
    el.textContent = t("noFile");
  }
}

function rowLabel(row) {
  if (row.settlement) return t("fileRowOption", { where: placeText(row.where) || "1", name: settlementName(row.settlement) });
  return t("fileRowBad", { where: placeText(row.where) });
}

function chooseFileRow(index) {
  const row = state.fileRows[index];
  if (!row) return;
  clearErrors();
  if (row.settlement) {
    loadSettlement(row.settlement, { key: "sourceFile", params: { file: state.fileName, where: row.where } });
  }
  if (row.problems && row.problems.length) {
    const err = new InputError(row.problems);
    err.fileName = state.fileName;
    showError(err);
  }
}

async function readFile() {
  const file = $("file").files[0];
  if (!file) return;
  clearErrors();
  state.fileName = file.name;
  renderFileName();
  if (file.size > MAX_FILE_BYTES) {
    const err = new InputError([{ field: "", code: "fileTooLarge", params: { size: fmt(file.size / 1048576, 1), limit: MAX_FILE_BYTES / 1048576 }, where: "" }]);
    err.fileName = file.name;
    showError(err);
    return;
  }
  setStatus("file", "readingFile", { file: file.name }, true);
  let rows;
  try {
    rows = readSettlements(await file.text(), file.name);
  } catch (err) {
    setStatus("file", null);
    if (err instanceof InputError) err.fileName = file.name;
    showError(err);
    return;
  }
  state.fileRows = rows;
  const sel = $("file-row");
  sel.replaceChildren(...rows.map((r, i) => h("option", { value: String(i) }, rowLabel(r))));
  $("file-choice").hidden = rows.length < 2;
  const first = Math.max(0, rows.findIndex((r) => r.settlement && !r.problems.length));
  sel.value = String(first);
  setStatus("file", "readFile", { file: file.name, count: fmt(rows.length, 0) });
  chooseFileRow(first);
}

// ---------------------------------------------------------------- rulesets

function selectRuleset(id) {
  state.ruleset = state.rulesets.find((r) => r.id === id) || state.rulesets[0] || null;
  if (state.audit && state.audit.rulesetId !== (state.ruleset && state.ruleset.id)) {
    state.run++;
    state.audit = state.gaps = state.plan = null;
    setStatus("audit", null);
    setStatus("gaps", null);
    setStatus("plan", null);
    renderResults();
  }
  map.setRadius(radius());
  renderMapText();
}

async function loadRulesets() {
  setStatus("rulesets", "loadingRulesets", {}, true);
  try {
    const resp = await api.listRulesets();
    state.rulesets = resp.rulesets || [];
    $("ruleset").replaceChildren(...state.rulesets.map((r) => h("option", { value: r.id }, `${r.id} — ${r.title}`)));
    selectRuleset(state.rulesets[0] && state.rulesets[0].id);
    setStatus("rulesets", null);
  } catch (err) {
    setStatus("rulesets", null);
    showError(err);
  }
}

// ---------------------------------------------------------------- language

function renderAll() {
  document.title = t("title");
  const lang = $("lang");
  lang.textContent = t("langButton");
  lang.setAttribute("lang", language() === "zh" ? "en" : "zh-CN");
  for (const opt of $("sample-settlement").options) {
    const set = state.samples.find((s) => s.name === $("sample-set").value);
    const entry = set && set.settlements.find((s) => s.id === opt.value);
    if (entry) opt.textContent = sampleOptionText(entry);
  }
  [...$("file-row").options].forEach((opt, i) => {
    if (state.fileRows[i]) opt.textContent = rowLabel(state.fileRows[i]);
  });
  renderLoaded();
  renderResults();
  renderStatus();
  renderErrors();
  renderScale(map.live);
}

// ---------------------------------------------------------------- start

function start() {
  setLanguage(initialLanguage(), false);
  buildForm();
  map = new MapView($("map"), { onViewChange: renderScale });
  onLanguageChange(renderAll);
  renderAll();

  $("lang").addEventListener("click", () => {
    setLanguage(language() === "zh" ? "en" : "zh");
    setStatus("lang", "langChanged");
  });
  $("ruleset").addEventListener("change", (e) => selectRuleset(e.target.value));
  $("sample-set").addEventListener("change", fillSampleSettlements);
  $("load-sample").addEventListener("click", loadSample);
  $("file").addEventListener("change", readFile);
  $("file-row").addEventListener("change", (e) => chooseFileRow(Number(e.target.value)));
  $("settlement-form").addEventListener("submit", runAudit);
  $("clear").addEventListener("click", () => {
    $("file").value = "";
    state.fileName = "";
    renderFileName();
    $("file-choice").hidden = true;
    state.fileRows = [];
    loadSettlement(null, null);
  });
  $("errors-dismiss").addEventListener("click", clearErrors);
  $("show-plan").addEventListener("change", (e) => map.setShowPlan(e.target.checked));
  $("zoom-in").addEventListener("click", () => map.zoom(1.5));
  $("zoom-out").addEventListener("click", () => map.zoom(1 / 1.5));
  $("zoom-fit").addEventListener("click", () => map.fit());

  document.body.dataset.ready = "false";
  Promise.all([loadRulesets(), loadSamples()]).then(() => {
    document.body.dataset.ready = "true";
  });
}

start();
