// Geometry on the client: the coordinate systems of Chinese map data, the
// local projection the map is drawn in, and the shapes a settlement's
// geometry may come in (typed, as the samples send it, or inline GeoJSON, as
// files carry it).

const GCJ_A = 6378245.0; // Krasovsky 1940 semi-major axis
const GCJ_EE = 0.00669342162296594323; // its first eccentricity squared
const BD_PI = (Math.PI * 3000.0) / 180.0;

function outOfChina(lon, lat) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

// The same forward formula as the server's (coverage/geo/datum.go), so that
// the stops land on the map where the server measured them.
function wgsToGcj(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  const x = lon - 105.0;
  const y = lat - 35.0;
  let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  dLat += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  dLat += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  let dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLon += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  dLon += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  dLon += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - GCJ_EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((GCJ_A * (1 - GCJ_EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180.0) / ((GCJ_A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lon + dLon, lat + dLat];
}

// GCJ-02 has no published inverse; the offsets vary slowly with position, so
// fixed-point iteration on the forward formula converges in a few steps.
function invert(forward, lon, lat, x, y) {
  for (let i = 0; i < 30; i++) {
    const [fx, fy] = forward(x, y);
    const dx = fx - lon;
    const dy = fy - lat;
    x -= dx;
    y -= dy;
    if (Math.abs(dx) < 1e-10 && Math.abs(dy) < 1e-10) break;
  }
  return [x, y];
}

function gcjToWgs(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  return invert(wgsToGcj, lon, lat, lon, lat);
}

function gcjToBd(lon, lat) {
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * BD_PI);
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * BD_PI);
  return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
}

function bdToGcj(lon, lat) {
  const x = lon - 0.0065;
  const y = lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * BD_PI);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * BD_PI);
  return invert(gcjToBd, lon, lat, z * Math.cos(theta), z * Math.sin(theta));
}

// toWgs84 returns a converter from the named coordinate system to WGS-84.
export function toWgs84(crs) {
  switch (crs) {
    case "COORDINATE_SYSTEM_GCJ02":
    case 3:
      return gcjToWgs;
    case "COORDINATE_SYSTEM_BD09":
    case 4:
      return (lon, lat) => gcjToWgs(...bdToGcj(lon, lat));
    default:
      return null;
  }
}

export const METRES_PER_DEGREE = (6378137 * Math.PI) / 180;

// LocalProjection is equirectangular around a centre, x scaled by the cosine
// of its latitude: within a city it is off by well under 1% in distance, far
// less than a stop marker, and it keeps the 300 m disks round.
export class LocalProjection {
  constructor(lon0, lat0) {
    this.lon0 = lon0;
    this.lat0 = lat0;
    this.kx = Math.cos((lat0 * Math.PI) / 180) * METRES_PER_DEGREE;
    this.ky = METRES_PER_DEGREE;
  }
  x(lon) {
    return (lon - this.lon0) * this.kx;
  }
  // y grows southwards, as the screen's does.
  y(lat) {
    return (this.lat0 - lat) * this.ky;
  }
  lon(x) {
    return this.lon0 + x / this.kx;
  }
  lat(y) {
    return this.lat0 - y / this.ky;
  }
}

function convertRing(ring, conv) {
  if (!conv) return ring;
  return ring.map(([lon, lat]) => conv(lon, lat));
}

function lonLatPairs(positions) {
  return (positions || []).map((p) => [Number(p.lon), Number(p.lat)]);
}

function geojsonGeometry(g) {
  if (!g || typeof g !== "object") return null;
  if (g.type === "Feature") return geojsonGeometry(g.geometry);
  return g;
}

// areaPolygons returns the central area as polygons of rings of [lon, lat]
// in WGS-84, or [] when the settlement has none.
export function areaPolygons(settlement) {
  const conv = toWgs84(settlement.centralAreaCrs);
  let polygons = [];
  const typed = settlement.centralAreaPolygons;
  if (typed && Array.isArray(typed.polygons) && typed.polygons.length) {
    polygons = typed.polygons.map((p) => (p.rings || []).map((r) => lonLatPairs(r.positions)));
  } else {
    polygons = geojsonPolygons(settlement.centralArea);
  }
  return polygons.map((rings) => rings.map((r) => convertRing(r, conv)));
}

// geojsonPolygons reads a GeoJSON Polygon or MultiPolygon (bare or as a
// Feature) into polygons of rings of [lon, lat].
export function geojsonPolygons(value) {
  const g = geojsonGeometry(value);
  if (!g) return [];
  const ring = (r) => (r || []).map((c) => [Number(c[0]), Number(c[1])]);
  if (g.type === "Polygon") return [(g.coordinates || []).map(ring)];
  if (g.type === "MultiPolygon") return (g.coordinates || []).map((p) => (p || []).map(ring));
  return [];
}

// stopPositions returns the bus stops in WGS-84 as two arrays, every given
// position kept (duplicates included), since the map shows what was sent.
export function stopPositions(settlement) {
  const conv = toWgs84(settlement.busStopsCrs);
  let pairs = [];
  const typed = settlement.busStopPositions;
  if (typed && Array.isArray(typed.positions)) {
    pairs = typed.positions.map((p) => [Number(p.lon), Number(p.lat)]);
  } else if (settlement.busStops && typeof settlement.busStops === "object") {
    const g = settlement.busStops;
    if (g.type === "MultiPoint") {
      pairs = (g.coordinates || []).map((c) => [Number(c[0]), Number(c[1])]);
    } else if (g.type === "FeatureCollection") {
      for (const f of g.features || []) {
        const geom = f && f.geometry;
        if (geom && geom.type === "Point") pairs.push([Number(geom.coordinates[0]), Number(geom.coordinates[1])]);
        if (geom && geom.type === "MultiPoint") for (const c of geom.coordinates || []) pairs.push([Number(c[0]), Number(c[1])]);
      }
    } else if (g.type === "Point") {
      pairs = [[Number(g.coordinates[0]), Number(g.coordinates[1])]];
    }
  }
  const n = pairs.length;
  const lon = new Float64Array(n);
  const lat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let [x, y] = pairs[i];
    if (conv) [x, y] = conv(x, y);
    lon[i] = x;
    lat[i] = y;
  }
  return { lon, lat, count: n };
}

// hasGeometry says whether a settlement carries what the coverage routes
// need: a central area and a stop list (possibly empty).
export function hasGeometry(settlement) {
  const area =
    (settlement.centralAreaPolygons && (settlement.centralAreaPolygons.polygons || []).length > 0) ||
    (settlement.centralArea && typeof settlement.centralArea === "object");
  const stops =
    (settlement.busStopPositions && Array.isArray(settlement.busStopPositions.positions)) ||
    (settlement.busStops && typeof settlement.busStops === "object");
  return { area: Boolean(area), stops: Boolean(stops) };
}

// bbox of polygons (rings of [lon, lat]) and of stop arrays, in degrees.
export function bounds(polygons, stops) {
  let minLon = Infinity;
  let minLat = Infinity;
  let maxLon = -Infinity;
  let maxLat = -Infinity;
  for (const rings of polygons) {
    for (const [lon, lat] of rings[0] || []) {
      if (lon < minLon) minLon = lon;
      if (lon > maxLon) maxLon = lon;
      if (lat < minLat) minLat = lat;
      if (lat > maxLat) maxLat = lat;
    }
  }
  if (minLon === Infinity && stops) {
    for (let i = 0; i < stops.count; i++) {
      const lon = stops.lon[i];
      const lat = stops.lat[i];
      if (lon < minLon) minLon = lon;
      if (lon > maxLon) maxLon = lon;
      if (lat < minLat) minLat = lat;
      if (lat > maxLat) maxLat = lat;
    }
  }
  if (minLon === Infinity) return null;
  return { minLon, minLat, maxLon, maxLat };
}
