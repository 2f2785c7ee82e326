// Reading settlements from what a planner has at hand: a JSON Settlement (or
// a request body holding one), a JSONL file of them, a GeoJSON Feature or
// FeatureCollection whose properties are the settlement and whose polygon is
// its central area, or settlements.csv rows. Everything is parsed here, in
// the browser, so that a bad file is explained field by field before anything
// is sent; each problem names the field (and the line) it is about.

import { SETTLEMENT_FIELDS, GEOMETRY_FIELDS, ENUMS, FIELD_TYPES, camelName } from "./fields.js";

// Problem is one thing wrong with the input: where (a line or a feature),
// which field, and a message code with its parameters for the i18n table.
export class InputError extends Error {
  constructor(problems) {
    super(problems.map((p) => `${p.where ? whereString(p.where) + ": " : ""}${p.field ? p.field + ": " : ""}${p.code}`).join("; "));
    this.problems = problems;
  }
}

function problem(field, code, params = {}, where = "") {
  return { field, code, params, where };
}

// A problem's place is a line of a text file ({line}) or a path in a JSON
// document ("features[3]"); the page words it in its language.
export function atLine(n) {
  return { line: n };
}

export function whereString(w) {
  return w && typeof w === "object" ? `line ${w.line}` : String(w || "");
}

const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

// parseCell reads one typed value from text; it throws a problem (without
// field, which the caller knows) on bad input. Empty text is never passed.
export function parseCell(type, text) {
  const v = text.trim();
  if (type === "string") return v;
  if (type === "int64") {
    if (!INT_RE.test(v)) throw problem("", "notInteger", { value: v });
    const n = Number(v);
    if (!Number.isSafeInteger(n)) {
      // protojson takes 64-bit integers as strings; beyond 2^53 a number
      // would lose digits.
      if (BigInt(v) > 9223372036854775807n || BigInt(v) < -9223372036854775808n) throw problem("", "outOfRange", { value: v });
      return v.replace(/^\+/, "");
    }
    return n;
  }
  if (type === "double") {
    if (!NUM_RE.test(v)) throw problem("", "notNumber", { value: v });
    const n = Number(v);
    if (!Number.isFinite(n)) throw problem("", "outOfRange", { value: v });
    return n;
  }
  if (type === "bool") {
    const l = v.toLowerCase();
    if (["true", "yes", "1"].includes(l)) return true;
    if (["false", "no", "0"].includes(l)) return false;
    throw problem("", "notBool", { value: v });
  }
  if (type.startsWith("enum:")) return parseEnum(type.slice(5), v);
  if (type === "vehicles") return parseVehicles(v);
  throw problem("", "unknownType", { value: type });
}

function enumPrefix(values) {
  let prefix = values[0];
  for (const v of values.slice(1)) {
    let n = 0;
    while (n < prefix.length && n < v.length && prefix[n] === v[n]) n++;
    prefix = prefix.slice(0, n);
  }
  return prefix.slice(0, prefix.lastIndexOf("_") + 1);
}

// parseEnum takes a full name or the name without the enum's prefix, in any
// case, as the batch reader does: spreadsheets are typed by hand.
export function parseEnum(enumName, text) {
  const values = ENUMS[enumName];
  const prefix = enumPrefix(values);
  const upper = text.trim().toUpperCase();
  for (const name of [upper, prefix + upper]) {
    if (values.includes(name)) return name;
  }
  throw problem("", "notEnum", { value: text, choices: values.slice(1).map((v) => v.slice(prefix.length)).join(", ") });
}

// parseVehicles reads "class:count;class:count", a class optionally with a
// length, "class@10.5:count", or only a length, "@10.5:count".
export function parseVehicles(text) {
  const groups = [];
  for (let part of text.split(";")) {
    part = part.trim();
    if (!part) continue;
    const k = part.lastIndexOf(":");
    if (k < 0) throw problem("", "vehicleGroup", { value: part });
    let spec = part.slice(0, k).trim();
    const countText = part.slice(k + 1).trim();
    if (!INT_RE.test(countText)) throw problem("", "vehicleCount", { value: part });
    const g = { count: Number(countText) };
    const at = spec.indexOf("@");
    if (at >= 0) {
      const lengthText = spec.slice(at + 1).trim();
      if (!NUM_RE.test(lengthText)) throw problem("", "vehicleLength", { value: part });
      g.lengthM = Number(lengthText);
      spec = spec.slice(0, at).trim();
    }
    if (spec) g.vehicleClass = spec;
    else if (g.lengthM === undefined) throw problem("", "vehicleGroup", { value: part });
    groups.push(g);
  }
  return groups;
}

// setPath sets obj.a.b = value for "a.b", creating the objects on the way;
// the vehicles column becomes busFleet.vehicles.
export function setPath(obj, path, value) {
  const parts = path.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (!o[p] || typeof o[p] !== "object") o[p] = {};
    o = o[p];
  }
  o[parts[parts.length - 1]] = value;
}

export function getPath(obj, path) {
  let o = obj;
  for (const p of path.split(".")) {
    if (o === null || o === undefined || typeof o !== "object") return undefined;
    o = o[p];
  }
  return o;
}

export function deletePath(obj, path) {
  const parts = path.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (!o[p] || typeof o[p] !== "object") return;
    o = o[p];
  }
  delete o[parts[parts.length - 1]];
  // An emptied sub-message would still say "given"; drop it.
  if (parts.length > 1) {
    const parent = getPath(obj, parts.slice(0, -1).join("."));
    if (parent && typeof parent === "object" && Object.keys(parent).length === 0) deletePath(obj, parts.slice(0, -1).join("."));
  }
}

// ---------------------------------------------------------------- CSV

// csvRecords splits RFC 4180 text into records, each with the line it starts
// on; a malformed quote is reported with its line, as Go's reader does.
export function csvRecords(text) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records = [];
  let record = [];
  let field = "";
  let line = 1;
  let start = 1;
  let i = 0;
  let quoted = false;
  let wasQuoted = false;
  const n = text.length;
  const endField = () => {
    record.push(field);
    field = "";
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    if (!(record.length === 1 && record[0] === "" && !wasQuoted)) records.push({ line: start, cells: record });
    record = [];
  };
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = text[i];
        if (i < n && next !== "," && next !== "\n" && next !== "\r") {
          throw new InputError([problem("", "csvQuote", {}, atLine(line))]);
        }
        continue;
      }
      if (c === "\n") line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== "") throw new InputError([problem("", "csvBareQuote", {}, atLine(line))]);
      quoted = true;
      wasQuoted = true;
      i++;
      continue;
    }
    if (c === ",") {
      endField();
      i++;
      continue;
    }
    if (c === "\r" || c === "\n") {
      endRecord();
      if (c === "\r" && text[i + 1] === "\n") i++;
      i++;
      line++;
      start = line;
      continue;
    }
    field += c;
    i++;
  }
  if (quoted) throw new InputError([problem("", "csvUnterminated", {}, atLine(start))]);
  if (field !== "" || record.length > 0) endRecord();
  return records;
}

const COLUMN_ALIASES = (() => {
  const m = new Map();
  for (const [name] of SETTLEMENT_FIELDS) {
    m.set(name, name);
    m.set(name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()), name);
  }
  m.set("bus_fleet.vehicles", "busFleet.vehicles");
  return m;
})();

function nearestColumn(name) {
  const l = name.toLowerCase().replace(/[_\s]/g, "");
  for (const [n] of SETTLEMENT_FIELDS) {
    if (n.toLowerCase().replace(/[_\s]/g, "") === l) return n;
  }
  for (const [n] of SETTLEMENT_FIELDS) {
    const bare = n.toLowerCase();
    if (bare.includes(l) || l.includes(bare.split(".").pop())) return n;
  }
  return "";
}

// settlementsFromCSV reads a settlements.csv file: a header naming protojson
// paths, then one settlement per row. It returns the rows that parsed and
// throws the first row's problems only when no row did, so that a file
// with one bad row still loads the others, whose problems are kept.
export function settlementsFromCSV(text) {
  const records = csvRecords(text);
  if (records.length === 0) throw new InputError([problem("", "csvEmpty")]);
  const header = records[0];
  const columns = [];
  const seen = new Map();
  header.cells.forEach((raw, i) => {
    const h = raw.trim();
    const where = atLine(header.line);
    if (!h) throw new InputError([problem("", "csvHeaderEmpty", { n: i + 1 }, where)]);
    const name = COLUMN_ALIASES.get(h);
    if (!name) throw new InputError([problem(h, "csvUnknownColumn", { value: h, hint: nearestColumn(h) }, where)]);
    if (seen.has(name)) throw new InputError([problem(h, "csvDuplicateColumn", { value: seen.get(name) }, where)]);
    seen.set(name, h);
    columns.push({ header: h, name, type: FIELD_TYPES.get(name) });
  });
  if (!seen.has("id")) throw new InputError([problem("id", "csvNoId", {}, atLine(header.line))]);
  const rows = [];
  for (const rec of records.slice(1)) {
    const where = atLine(rec.line);
    if (rec.cells.length !== columns.length) {
      rows.push({ where, problems: [problem("", "csvCells", { got: rec.cells.length, want: columns.length }, where)] });
      continue;
    }
    const s = {};
    const problems = [];
    rec.cells.forEach((cell, i) => {
      if (cell.trim() === "") return;
      const col = columns[i];
      try {
        setPath(s, col.name, parseCell(col.type, cell));
      } catch (p) {
        if (p instanceof InputError) throw p;
        problems.push({ ...p, field: col.header, where });
      }
    });
    if (s.busFleet && s.busFleet.vehicles !== undefined && s.busFleet.standardUnits !== undefined) {
      problems.push(problem("busFleet", "fleetBoth", {}, where));
    }
    rows.push({ where, settlement: s, problems });
  }
  if (rows.length === 0) throw new InputError([problem("", "csvNoRows")]);
  if (rows.every((r) => r.problems.length)) throw new InputError(rows[0].problems);
  return rows;
}

// ---------------------------------------------------------------- JSON

function typeName(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function checkScalar(type, v, field, out) {
  if (v === null) return;
  if (type === "string") {
    if (typeof v !== "string") out.push(problem(field, "wantString", { got: typeName(v) }));
    return;
  }
  if (type === "int64") {
    if (typeof v === "number" ? !Number.isInteger(v) : !(typeof v === "string" && INT_RE.test(v))) {
      out.push(problem(field, "notInteger", { value: JSON.stringify(v) }));
    }
    return;
  }
  if (type === "double") {
    if (typeof v === "number" ? !Number.isFinite(v) : !(typeof v === "string" && NUM_RE.test(v))) {
      out.push(problem(field, "notNumber", { value: JSON.stringify(v) }));
    }
    return;
  }
  if (type === "bool") {
    if (typeof v !== "boolean") out.push(problem(field, "wantBool", { value: JSON.stringify(v) }));
    return;
  }
  if (type.startsWith("enum:")) {
    const values = ENUMS[type.slice(5)];
    if (typeof v === "number" ? !(Number.isInteger(v) && v >= 0 && v < values.length) : !values.includes(v)) {
      out.push(problem(field, "notEnum", { value: JSON.stringify(v), choices: values.slice(1).join(", ") }));
    }
  }
}

function checkPosition(c, field, out) {
  if (!Array.isArray(c) || c.length < 2 || typeof c[0] !== "number" || typeof c[1] !== "number") {
    out.push(problem(field, "badCoordinate", { value: JSON.stringify(c).slice(0, 40) }));
    return false;
  }
  return true;
}

function checkLonLat(p, field, out) {
  if (!p || typeof p !== "object" || typeof p.lon !== "number" || typeof p.lat !== "number") {
    out.push(problem(field, "badLonLat", { value: JSON.stringify(p).slice(0, 40) }));
    return false;
  }
  return true;
}

// Only the first few problems of a long list are worth reading.
const MAX_PROBLEMS = 8;

function checkGeoJSON(name, g, field, out) {
  if (g === null) return;
  if (typeName(g) !== "object") {
    out.push(problem(field, "wantObject", { got: typeName(g) }));
    return;
  }
  const area = name === "centralArea";
  let geom = g;
  let gField = field;
  if (area && g.type === "Feature") {
    geom = g.geometry;
    gField = field + ".geometry";
    if (!geom || typeof geom !== "object") {
      out.push(problem(gField, "geoType", { value: typeName(geom), want: "Polygon, MultiPolygon" }));
      return;
    }
  }
  if (area) {
    if (geom.type === "Polygon") {
      checkRings(geom.coordinates, gField + ".coordinates", out);
    } else if (geom.type === "MultiPolygon") {
      if (!Array.isArray(geom.coordinates)) out.push(problem(gField + ".coordinates", "wantArray", { got: typeName(geom.coordinates) }));
      else geom.coordinates.forEach((p, i) => checkRings(p, `${gField}.coordinates[${i}]`, out));
    } else {
      out.push(problem(gField + ".type", "geoType", { value: String(geom.type), want: "Polygon, MultiPolygon, Feature" }));
    }
    return;
  }
  if (geom.type === "MultiPoint") {
    if (!Array.isArray(geom.coordinates)) out.push(problem(gField + ".coordinates", "wantArray", { got: typeName(geom.coordinates) }));
    else for (let i = 0; i < geom.coordinates.length && out.length < MAX_PROBLEMS; i++) checkPosition(geom.coordinates[i], `${gField}.coordinates[${i}]`, out);
  } else if (geom.type === "FeatureCollection") {
    if (!Array.isArray(geom.features)) {
      out.push(problem(gField + ".features", "wantArray", { got: typeName(geom.features) }));
      return;
    }
    geom.features.forEach((f, i) => {
      if (out.length >= MAX_PROBLEMS) return;
      const t = f && f.geometry && f.geometry.type;
      if (t !== "Point") out.push(problem(`${gField}.features[${i}].geometry.type`, "geoType", { value: String(t), want: "Point" }));
      else checkPosition(f.geometry.coordinates, `${gField}.features[${i}].geometry.coordinates`, out);
    });
  } else {
    out.push(problem(gField + ".type", "geoType", { value: String(geom.type), want: "MultiPoint, FeatureCollection" }));
  }
}

function checkRings(rings, field, out) {
  if (!Array.isArray(rings) || rings.length === 0) {
    out.push(problem(field, "wantRings", {}));
    return;
  }
  rings.forEach((ring, i) => {
    if (!Array.isArray(ring) || ring.length < 4) {
      out.push(problem(`${field}[${i}]`, "shortRing", { got: Array.isArray(ring) ? ring.length : 0 }));
      return;
    }
    for (let j = 0; j < ring.length && out.length < MAX_PROBLEMS; j++) checkPosition(ring[j], `${field}[${i}][${j}]`, out);
  });
}

function checkGeometryField(name, type, v, field, out) {
  if (v === null) return;
  if (type === "geojson") return checkGeoJSON(name, v, field, out);
  if (type === "multipolygon") {
    if (typeName(v) !== "object" || !Array.isArray(v.polygons)) {
      out.push(problem(field + ".polygons", "wantArray", { got: typeName(v && v.polygons) }));
      return;
    }
    v.polygons.forEach((p, i) => {
      const rings = p && p.rings;
      if (!Array.isArray(rings) || !rings.length) {
        out.push(problem(`${field}.polygons[${i}].rings`, "wantRings", {}));
        return;
      }
      rings.forEach((r, j) => {
        const pos = r && r.positions;
        if (!Array.isArray(pos) || pos.length < 4) {
          out.push(problem(`${field}.polygons[${i}].rings[${j}].positions`, "shortRing", { got: Array.isArray(pos) ? pos.length : 0 }));
          return;
        }
        for (let k = 0; k < pos.length && out.length < MAX_PROBLEMS; k++) checkLonLat(pos[k], `${field}.polygons[${i}].rings[${j}].positions[${k}]`, out);
      });
    });
    return;
  }
  if (type === "positions") {
    if (typeName(v) !== "object" || (v.positions !== undefined && !Array.isArray(v.positions))) {
      out.push(problem(field + ".positions", "wantArray", { got: typeName(v && v.positions) }));
      return;
    }
    const pos = v.positions || [];
    for (let k = 0; k < pos.length && out.length < MAX_PROBLEMS; k++) checkLonLat(pos[k], `${field}.positions[${k}]`, out);
    return;
  }
  if (type === "population") {
    if (!Array.isArray(v)) {
      out.push(problem(field, "wantArray", { got: typeName(v) }));
      return;
    }
    for (let k = 0; k < v.length && out.length < MAX_PROBLEMS; k++) {
      const p = v[k];
      if (checkLonLat(p, `${field}[${k}]`, out) && typeof p.count !== "number") out.push(problem(`${field}[${k}].count`, "notNumber", { value: JSON.stringify(p.count) }));
    }
  }
}

const TOP_SCALARS = new Map(SETTLEMENT_FIELDS.filter(([n]) => !n.includes(".")));
const FACILITY_FIELDS = new Map(SETTLEMENT_FIELDS.filter(([n]) => n.startsWith("facilities.")).map(([n, t]) => [n.slice(11), t]));
const GEOMETRY = new Map(GEOMETRY_FIELDS);

// normalizeSettlement checks a JSON Settlement as protojson would read it
// and returns a copy with lowerCamelCase names; it throws every problem it
// finds, each naming its field under prefix.
export function normalizeSettlement(raw, prefix = "settlement", where = "") {
  const out = [];
  if (typeName(raw) !== "object") throw new InputError([problem(prefix, "wantObject", { got: typeName(raw) }, where)]);
  const s = {};
  for (const [key, v] of Object.entries(raw)) {
    const name = camelName(key);
    const field = `${prefix}.${name}`;
    if (TOP_SCALARS.has(name)) {
      checkScalar(TOP_SCALARS.get(name), v, field, out);
    } else if (name === "facilities") {
      if (v !== null && typeName(v) !== "object") out.push(problem(field, "wantObject", { got: typeName(v) }));
      else if (v) {
        const f = {};
        for (const [k, c] of Object.entries(v)) {
          const n = camelName(k);
          if (!FACILITY_FIELDS.has(n)) out.push(problem(`${field}.${k}`, "unknownField", {}));
          else checkScalar(FACILITY_FIELDS.get(n), c, `${field}.${n}`, out);
          f[n] = c;
        }
        s[name] = f;
        continue;
      }
    } else if (name === "busFleet") {
      if (v !== null && typeName(v) !== "object") out.push(problem(field, "wantObject", { got: typeName(v) }));
      else if (v) {
        const f = {};
        for (const [k, c] of Object.entries(v)) {
          const n = camelName(k);
          if (n === "standardUnits") checkScalar("double", c, `${field}.${n}`, out);
          else if (n === "vehicles") {
            if (c !== null && !Array.isArray(c)) out.push(problem(`${field}.vehicles`, "wantArray", { got: typeName(c) }));
            else
              (c || []).forEach((g, i) => {
                const gf = `${field}.vehicles[${i}]`;
                if (typeName(g) !== "object") return out.push(problem(gf, "wantObject", { got: typeName(g) }));
                for (const [gk, gv] of Object.entries(g)) {
                  const gn = camelName(gk);
                  if (gn === "vehicleClass") checkScalar("string", gv, `${gf}.${gn}`, out);
                  else if (gn === "lengthM") checkScalar("double", gv, `${gf}.${gn}`, out);
                  else if (gn === "count") checkScalar("int64", gv, `${gf}.${gn}`, out);
                  else out.push(problem(`${gf}.${gk}`, "unknownField", {}));
                }
              });
          } else {
            out.push(problem(`${field}.${k}`, "unknownField", {}));
            continue;
          }
          f[n] = c;
        }
        s[name] = f;
        continue;
      }
    } else if (GEOMETRY.has(name)) {
      checkGeometryField(name, GEOMETRY.get(name), v, field, out);
    } else {
      out.push(problem(field, "unknownField", {}));
      continue;
    }
    s[name] = v;
  }
  if (out.length) throw new InputError(out.slice(0, MAX_PROBLEMS).map((p) => ({ ...p, where })));
  return s;
}

// settlementsFromFeature reads a GeoJSON Feature: its properties are the
// settlement, a Polygon or MultiPolygon geometry its central area.
function settlementFromFeature(f, prefix, where) {
  if (typeName(f) !== "object") throw new InputError([problem(prefix, "wantObject", { got: typeName(f) }, where)]);
  const props = f.properties === undefined || f.properties === null ? {} : f.properties;
  if (typeName(props) !== "object") throw new InputError([problem(prefix + ".properties", "wantObject", { got: typeName(props) }, where)]);
  const s = normalizeSettlement(props, prefix + ".properties", where);
  if (!s.id && f.id !== undefined && f.id !== null) s.id = String(f.id);
  const g = f.geometry;
  if (g && typeof g === "object") {
    if (g.type === "Polygon" || g.type === "MultiPolygon") {
      if (s.centralArea || s.centralAreaPolygons) throw new InputError([problem(prefix + ".geometry", "areaTwice", {}, where)]);
      const out = [];
      checkGeoJSON("centralArea", g, prefix + ".geometry", out);
      if (out.length) throw new InputError(out.map((p) => ({ ...p, where })));
      s.centralArea = g;
    } else if (g.type !== "Point") {
      throw new InputError([problem(prefix + ".geometry.type", "geoType", { value: String(g.type), want: "Polygon, MultiPolygon" }, where)]);
    }
  }
  return s;
}

// A FeatureCollection holds one settlement per polygonal feature; its Point
// features are bus stops, of the only settlement or of the one their
// settlementId property names.
function settlementsFromCollection(fc) {
  if (!Array.isArray(fc.features)) throw new InputError([problem("features", "wantArray", { got: typeName(fc.features) })]);
  const rows = [];
  const points = [];
  fc.features.forEach((f, i) => {
    const t = f && f.geometry && f.geometry.type;
    const where = `features[${i}]`;
    if (t === "Point") {
      points.push(f);
      return;
    }
    try {
      rows.push({ where, settlement: settlementFromFeature(f, `features[${i}]`, where), problems: [] });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      rows.push({ where, problems: e.problems });
    }
  });
  if (rows.length === 0) throw new InputError([problem("features", "noPolygonFeature")]);
  const good = rows.filter((r) => r.settlement);
  for (const f of points) {
    const owner = good.length === 1 ? good[0] : good.find((r) => f.properties && r.settlement.id === f.properties.settlementId);
    if (!owner) continue;
    const s = owner.settlement;
    if (!s.busStops) s.busStops = { type: "FeatureCollection", features: [] };
    if (s.busStops.type === "FeatureCollection") s.busStops.features.push({ type: "Feature", properties: {}, geometry: f.geometry });
  }
  if (!good.length) throw new InputError(rows[0].problems);
  return rows;
}

// readSettlements reads a file's text into one or more candidate
// settlements: [{where, settlement, problems}]. It throws when nothing
// usable is in it.
export function readSettlements(text, fileName = "") {
  const lower = fileName.toLowerCase();
  const trimmed = text.replace(/^\ufeff/, "").trim();
  if (!trimmed) throw new InputError([problem("", "emptyFile")]);
  if (lower.endsWith(".csv") || (!trimmed.startsWith("{") && !trimmed.startsWith("["))) {
    return settlementsFromCSV(text);
  }
  let value;
  try {
    value = JSON.parse(trimmed);
  } catch (e) {
    // A JSONL file is several JSON values, one a line.
    const lines = trimmed.split(/\r?\n/);
    if (lines.length > 1 && lines[0].trim().startsWith("{")) return settlementsFromJSONL(lines);
    throw new InputError([problem("", "notJSON", { reason: e.message })]);
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => fromValue(v, `[${i}]`));
  }
  if (typeName(value) !== "object") throw new InputError([problem("", "wantObject", { got: typeName(value) })]);
  if (value.type === "FeatureCollection") return settlementsFromCollection(value);
  if (value.type === "Feature") return [{ where: "", settlement: settlementFromFeature(value, "feature", ""), problems: [] }];
  return [{ where: "", settlement: unwrap(value, ""), problems: [] }];
}

// A request body ({"rulesetId": …, "settlement": {…}}) is accepted too: it
// is what the API examples are saved as.
function unwrap(value, where) {
  if (typeName(value.settlement) === "object") return normalizeSettlement(value.settlement, "settlement", where);
  return normalizeSettlement(value, "settlement", where);
}

function fromValue(v, where) {
  try {
    if (v && v.type === "Feature") return { where, settlement: settlementFromFeature(v, where, where), problems: [] };
    if (typeName(v) !== "object") throw new InputError([problem("", "wantObject", { got: typeName(v) }, where)]);
    return { where, settlement: unwrap(v, where), problems: [] };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { where, problems: e.problems };
  }
}

function settlementsFromJSONL(lines) {
  const rows = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const where = atLine(i + 1);
    let v;
    try {
      v = JSON.parse(line);
    } catch (e) {
      rows.push({ where, problems: [problem("", "notJSON", { reason: e.message }, where)] });
      return;
    }
    rows.push(fromValue(v, where));
  });
  if (rows.every((r) => r.problems.length)) throw new InputError(rows[0].problems);
  return rows;
}
