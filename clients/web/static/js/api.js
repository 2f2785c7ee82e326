// Calls to the REST gateway on the page's own origin. Paths are relative, so
// the page works wherever it is mounted beside the API.

const CODE_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

// ApiError is a refused or failed call, with what the gateway's error body
// (a google.rpc.Status) says: the code, the message and the field violations
// of a google.rpc.BadRequest detail.
export class ApiError extends Error {
  constructor({ route, status = 0, code = "", message = "", violations = [], kind = "api" }) {
    super(message);
    this.route = route;
    this.status = status;
    this.code = code;
    this.violations = violations;
    this.kind = kind;
  }
}

function violationsOf(body) {
  const out = [];
  for (const d of (body && Array.isArray(body.details) && body.details) || []) {
    if (d && Array.isArray(d.fieldViolations)) {
      for (const v of d.fieldViolations) out.push({ field: v.field || "", description: v.description || "" });
    }
  }
  return out;
}

export async function call(method, route, body, { signal } = {}) {
  const init = { method, headers: { Accept: "application/json" }, signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(route, init);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError({ route, message: e.message, kind: "network" });
  }
  const text = await resp.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!resp.ok) {
    const code = json && Number.isInteger(json.code) ? CODE_NAMES[json.code] || String(json.code) : "";
    const message = (json && json.message) || text.slice(0, 300) || resp.statusText;
    throw new ApiError({ route, status: resp.status, code, message, violations: violationsOf(json) });
  }
  if (json === undefined) throw new ApiError({ route, status: resp.status, kind: "notJSON" });
  return json;
}

export const listRulesets = (opts) => call("GET", "v1/rulesets", undefined, opts);
export const listSamples = (opts) => call("GET", "v1/samples", undefined, opts);
export const getSample = (set, id, opts) =>
  call("GET", `v1/samples/${encodeURIComponent(set)}/settlements/${encodeURIComponent(id)}`, undefined, opts);
export const audit = (body, opts) => call("POST", "v1/audit", body, opts);
export const mapGaps = (body, opts) => call("POST", "v1/gaps/bus-stop-coverage", body, opts);
export const planStops = (body, opts) => call("POST", "v1/plan/bus-stops", body, opts);
