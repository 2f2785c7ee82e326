// The verdict table: one row per rule of an audit, with the status told in
// words and an icon as well as colour, the value against the threshold and
// its reason, the shortfall, the actions that close it, and the plan's
// original wording beside its English rendering.

import { t, fmt, pct, ruleTitle, metricUnit, language } from "./i18n.js";

const ICONS = {
  STATUS_COMPLIANT: "✓",
  STATUS_NON_COMPLIANT: "✗",
  STATUS_NOT_APPLICABLE: "–",
  STATUS_INSUFFICIENT_DATA: "?",
  STATUS_INFORMATIONAL: "i",
  STATUS_NOT_COMPUTED: "…",
};

// Metrics whose values are shares, shown as percentages.
const SHARE_METRICS = new Set([
  "METRIC_STOP_COVERAGE_SHARE",
  "METRIC_PRESCHOOL_ENROLMENT_RATIO",
  "METRIC_URBANISATION_RATE",
]);

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.dataset[k.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === "") continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

export { h };

function formatValue(v, rule, unit) {
  if (v === undefined || v === null) return t("none");
  if (rule && rule.metric === "METRIC_DECLARED_FACT") return Number(v) >= 1 ? t("declaredYes") : t("declaredNo");
  if (rule && SHARE_METRICS.has(rule.metric)) return pct(v);
  const u = metricUnit(rule && rule.metric, unit);
  return u ? `${fmt(v)} ${u}` : fmt(v);
}

function statusCell(r) {
  const status = r.status || "STATUS_UNSPECIFIED";
  const cell = h("td", { class: "status-cell" });
  cell.append(
    h(
      "span",
      { class: `verdict verdict-${status.replace("STATUS_", "").toLowerCase().replace(/_/g, "-")}` },
      h("span", { class: "verdict-icon", "aria-hidden": "true" }, ICONS[status] || "·"),
      h("span", { class: "verdict-text" }, t(`status.${status}`)),
    ),
  );
  if (r.reason) cell.append(h("span", { class: "reason", lang: "en" }, r.reason));
  if (r.missingFields && r.missingFields.length) {
    cell.append(h("span", { class: "missing" }, t("missing", { fields: r.missingFields.join(", ") })));
  }
  return cell;
}

function thresholdCell(r, rule) {
  const cell = h("td");
  if (r.threshold !== undefined && r.threshold !== null) {
    let text = formatValue(r.threshold, rule, r.unit);
    if (r.thresholdUpper !== undefined && r.thresholdUpper !== null) {
      text = t("band", { low: formatValue(r.threshold, rule, ""), high: formatValue(r.thresholdUpper, rule, r.unit) });
    }
    const cmp = r.comparison === "COMPARISON_AT_MOST" ? "≤ " : r.comparison === "COMPARISON_AT_LEAST" ? "≥ " : "";
    cell.append(h("span", { class: "threshold" }, cmp + text));
  } else {
    cell.append(h("span", { class: "threshold" }, t("none")));
  }
  if (r.thresholdReason) cell.append(h("span", { class: "reason", lang: "en" }, r.thresholdReason));
  return cell;
}

function shortfallCell(r, rule) {
  const cell = h("td");
  if (r.shortfall === undefined || r.shortfall === null) {
    cell.append(t("none"));
    return cell;
  }
  const unit = r.shortfallUnit || "";
  const main =
    rule && rule.metric === "METRIC_STOP_COVERAGE_SHARE" ? pct(r.shortfall) : `${fmt(r.shortfall)}${unit ? " " + unit : ""}`;
  cell.append(h("span", { class: "shortfall", lang: "en" }, main));
  const items = (r.shortfallItems || []).filter((i) => i.action);
  if (items.length) {
    cell.append(h("ul", { class: "items", lang: "en" }, items.map((i) => h("li", {}, i.action))));
  }
  return cell;
}

function actionsCell(r) {
  const cell = h("td");
  const actions = r.actions || [];
  if (!actions.length) {
    cell.append(t("none"));
    return cell;
  }
  const zh = language() === "zh";
  cell.append(
    h(
      "ul",
      { class: "actions" },
      actions.map((a) => {
        const text = zh ? a.textZh || a.text : a.text || a.textZh;
        const lang = zh ? (a.textZh ? "zh-CN" : "en") : a.text ? "en" : "zh-CN";
        const li = h("li", { lang }, text || `${fmt(a.quantity)} ${zh ? a.unitZh || a.unit : a.unit}`);
        li.dataset.kind = a.kind || "";
        return li;
      }),
    ),
  );
  return cell;
}

function citationCell(r) {
  const c = r.citation || {};
  const cell = h("td", { class: "citation" });
  if (c.originalText) cell.append(h("q", { lang: "zh-CN", class: "original" }, c.originalText));
  if (c.englishText) cell.append(h("span", { lang: "en", class: "english" }, c.englishText));
  const where = [c.document, language() === "zh" ? c.section : c.sectionEn || c.section].filter(Boolean).join(" ");
  if (where) cell.append(h("span", { class: "source" }, where));
  return cell;
}

// renderVerdicts fills the table from an AuditResponse, looking each rule
// up in the ruleset for its metric (how to show its values).
export function renderVerdicts(table, audit, ruleset) {
  const rules = new Map(((ruleset && ruleset.rules) || []).map((r) => [r.id, r]));
  const caption = table.querySelector("caption");
  const tbody = table.querySelector("tbody");
  if (!audit) {
    caption.textContent = t("captionEmpty");
    tbody.replaceChildren();
    table.dataset.rows = "0";
    return;
  }
  caption.textContent = t("caption", {
    name: audit.settlementName || audit.settlementId || "",
    ruleset: `${audit.rulesetId} ${audit.rulesetVersion || ""}`.trim(),
  });
  const rows = (audit.results || []).map((r) => {
    const rule = rules.get(r.ruleId);
    const tr = h("tr", { "data-rule-id": r.ruleId, "data-status": r.status });
    tr.append(
      h(
        "th",
        { scope: "row", class: "rule" },
        h("span", { class: "rule-title" }, ruleTitle(r.ruleId, r.title)),
        h("code", { class: "rule-id" }, r.ruleId),
      ),
      statusCell(r),
      h("td", { class: "num" }, formatValue(r.value, rule, r.unit)),
      thresholdCell(r, rule),
      shortfallCell(r, rule),
      actionsCell(r),
      citationCell(r),
    );
    return tr;
  });
  tbody.replaceChildren(...rows);
  table.dataset.rows = String(rows.length);
}

export function countsText(counts) {
  const c = counts || {};
  return t("counts", {
    compliant: c.compliant || 0,
    nonCompliant: c.nonCompliant || 0,
    notApplicable: c.notApplicable || 0,
    insufficientData: c.insufficientData || 0,
    informational: c.informational || 0,
  });
}
