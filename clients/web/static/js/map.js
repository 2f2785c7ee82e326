// The coverage map, drawn by the page itself in a local projection: the
// central area, every bus stop, the union of their disks, the gaps the server
// mapped and the stops it suggests.
//
// A city has tens of thousands of stops. As SVG, one element per stop and a
// path of as many arcs took over a second to redraw on a loaded two-core
// machine, most of it in the stops and the disks; the bulk layers (area fill,
// disks, stops) are therefore painted on a canvas, culled to the view, and
// the few shapes that carry meaning one by one (gaps, the area's outline,
// suggested stops, labels) stay SVG elements on top, in the same metres.
//
// Pan and zoom never redraw while the user moves: only a CSS transform of
// both layers changes (the compositor moves the bitmaps it has), and the view
// is committed, which repaints it sharp, once the user pauses.

import { LocalProjection, bounds, toWgs84, geojsonPolygons } from "./geo.js";

const SVGNS = "http://www.w3.org/2000/svg";
const COMMIT_DELAY_MS = 160;
const MIN_ZOOM = 0.25; // of the fitted scale
const MAX_ZOOM = 400;
const GAP_LABELS = 8;
const STOP_HALF_PX = 1.5; // stops are squares of twice this side, in CSS pixels

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

const r1 = (v) => Math.round(v * 10) / 10;

function ringPath(proj, ring) {
  let d = "";
  for (let i = 0; i < ring.length; i++) {
    const [lon, lat] = ring[i];
    d += (i === 0 ? "M" : "L") + r1(proj.x(lon)) + "," + r1(proj.y(lat));
  }
  return d + "Z";
}

function polygonsPath(proj, polygons) {
  let d = "";
  for (const rings of polygons) for (const ring of rings) if (ring.length) d += ringPath(proj, ring);
  return d;
}

// disksPath draws every disk as two arcs in one SVG path: with the nonzero
// fill rule and every circle turning the same way, overlaps fill once. Used
// for the few suggested stops; the many existing ones go to the canvas.
function disksPath(xs, ys, r) {
  const rr = r1(r);
  const d2 = r1(2 * r);
  let d = "";
  for (let i = 0; i < xs.length; i++) d += `M${r1(xs[i] + r)},${r1(ys[i])}a${rr},${rr} 0 1,0 -${d2},0a${rr},${rr} 0 1,0 ${d2},0z`;
  return d;
}

export class MapView {
  constructor(viewport, { onViewChange } = {}) {
    this.viewport = viewport;
    this.layers = viewport.querySelector(".map-layers");
    this.canvas = viewport.querySelector("canvas");
    this.svg = viewport.querySelector("svg");
    this.onViewChange = onViewChange || (() => {});
    this.root = el("g", { class: "view" }, this.svg);
    this.gapLayer = el("g", { class: "gaps" }, this.root);
    this.areaOutline = el("path", { class: "area-outline" }, this.root);
    this.planDisks = el("path", { class: "plan-disks" }, this.root);
    this.planLayer = el("g", { class: "plan" }, this.root);
    this.labelLayer = el("g", { class: "labels" }, this.root);
    this.view = { s: 1, tx: 0, ty: 0 };
    this.live = { ...this.view };
    this.fitScale = 1;
    this.size = { w: 1, h: 1 };
    this.proj = null;
    this.xs = new Float64Array(0);
    this.ys = new Float64Array(0);
    this.areaPath = null;
    this.radius = 300;
    this.plan = null;
    this.showPlan = false;
    this.fitted = false; // the view is the fitted one, to be refitted on resize
    this.commitTimer = 0;
    this.drag = null;
    this.bindEvents();
    new ResizeObserver(() => this.resize()).observe(viewport);
    this.resize();
  }

  // ------------------------------------------------------------ data

  // setSettlement draws a settlement's central area (polygons of rings of
  // [lon, lat], WGS-84) and stops ({lon, lat, count}, WGS-84), and returns
  // a promise of the milliseconds until the browser had painted them.
  setSettlement(polygons, stops, radius) {
    const t0 = performance.now();
    delete this.viewport.dataset.renderMs;
    this.clearOverlay();
    this.radius = radius;
    const b = bounds(polygons, stops);
    if (!b) {
      this.proj = null;
      this.areaPath = null;
      this.xs = new Float64Array(0);
      this.ys = new Float64Array(0);
      this.areaOutline.setAttribute("d", "");
      this.viewport.dataset.stopsDrawn = "0";
      this.viewport.classList.add("empty");
      this.paint();
      return Promise.resolve(0);
    }
    this.viewport.classList.remove("empty");
    this.proj = new LocalProjection((b.minLon + b.maxLon) / 2, (b.minLat + b.maxLat) / 2);
    const p = this.proj;
    const area = polygonsPath(p, polygons);
    this.areaOutline.setAttribute("d", area);
    this.areaPath = area ? new Path2D(area) : null;
    this.extent = { x0: p.x(b.minLon), x1: p.x(b.maxLon), y0: p.y(b.maxLat), y1: p.y(b.minLat) };
    const n = stops ? stops.count : 0;
    this.xs = new Float64Array(n);
    this.ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.xs[i] = p.x(stops.lon[i]);
      this.ys[i] = p.y(stops.lat[i]);
    }
    // Every given position is on the map (duplicates too): what was sent is
    // what is shown. The canvas paints those in view.
    this.viewport.dataset.stopsDrawn = String(n);
    this.fit();
    this.commit();
    // The work of the script alone, beside the time to the painted frame
    // (which also waits for the rest of the page's layout).
    this.viewport.dataset.renderScriptMs = String(Math.round(performance.now() - t0));
    return this.painted(t0).then((ms) => {
      this.viewport.dataset.renderMs = String(ms);
      return ms;
    });
  }

  setRadius(radius) {
    if (radius === this.radius) return;
    this.radius = radius;
    this.paint();
    this.drawPlan();
  }

  clearOverlay() {
    this.gapLayer.replaceChildren();
    this.labelLayer.replaceChildren();
    this.planLayer.replaceChildren();
    this.planDisks.setAttribute("d", "");
    this.plan = null;
    delete this.viewport.dataset.gapsDrawn;
    delete this.viewport.dataset.plannedDrawn;
  }

  // setGaps draws the response of MapBusStopGaps: polygon i of `uncovered`
  // is gap i, one path each, and the largest few are labelled with their
  // rank and area.
  setGaps(resp, labelText) {
    this.gapLayer.replaceChildren();
    this.labelLayer.replaceChildren();
    delete this.viewport.dataset.gapsDrawn;
    if (!this.proj || !resp) return;
    const conv = toWgs84(resp.crs);
    let polygons = geojsonPolygons(resp.uncovered);
    if (conv) polygons = polygons.map((rings) => rings.map((r) => r.map(([x, y]) => conv(x, y))));
    const frag = document.createDocumentFragment();
    polygons.forEach((rings, i) => {
      const path = el("path", { class: "gap", d: polygonsPath(this.proj, [rings]) });
      path.dataset.rank = String(i + 1);
      frag.appendChild(path);
    });
    this.gapLayer.appendChild(frag);
    this.viewport.dataset.gapsDrawn = String(polygons.length);
    (resp.gaps || []).slice(0, GAP_LABELS).forEach((g) => {
      if (!g.centroid) return;
      let { lon, lat } = g.centroid;
      if (conv) [lon, lat] = conv(lon, lat);
      const text = el("text", { class: "gap-label", x: r1(this.proj.x(lon)), y: r1(this.proj.y(lat)) }, this.labelLayer);
      text.textContent = labelText(g);
    });
  }

  // setPlan keeps the response of PlanBusStops; its stops are drawn only
  // while they are shown, so that what the map holds is what is visible.
  setPlan(resp) {
    this.plan = resp;
    this.drawPlan();
  }

  setShowPlan(show) {
    this.showPlan = show;
    this.drawPlan();
  }

  drawPlan() {
    this.planLayer.replaceChildren();
    this.planDisks.setAttribute("d", "");
    delete this.viewport.dataset.plannedDrawn;
    if (!this.proj || !this.plan || !this.showPlan) return;
    const conv = toWgs84(this.plan.crs);
    const xs = [];
    const ys = [];
    const frag = document.createDocumentFragment();
    (this.plan.addedStops || []).forEach((stop, i) => {
      let [lon, lat] = stop.position || [];
      if (conv) [lon, lat] = conv(lon, lat);
      const x = r1(this.proj.x(lon));
      const y = r1(this.proj.y(lat));
      xs.push(x);
      ys.push(y);
      const g = el("g", { class: "planned-stop", transform: `translate(${x} ${y})` });
      g.dataset.order = String(i + 1);
      el("circle", { class: "planned-mark" }, g);
      const label = el("text", { class: "planned-label" }, g);
      label.textContent = String(i + 1);
      frag.appendChild(g);
    });
    this.planLayer.appendChild(frag);
    this.planDisks.setAttribute("d", this.radius > 0 ? disksPath(xs, ys, this.radius) : "");
    this.viewport.dataset.plannedDrawn = String(xs.length);
  }

  // painted resolves once the browser has painted what was just built:
  // after the next animation frame's style, layout and paint.
  painted(t0) {
    return new Promise((resolve) => {
      requestAnimationFrame(() => setTimeout(() => resolve(Math.round(performance.now() - t0)), 0));
    });
  }

  // ------------------------------------------------------------ canvas

  colours() {
    const cs = getComputedStyle(this.viewport);
    const v = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
    return { area: v("--map-area", "#fffdf4"), disk: v("--map-disk", "#bcd8ee"), stop: v("--map-stop", "#1b3a6b") };
  }

  // paint draws the bulk layers for the committed view: the area's fill,
  // the disks of the stops near the view, and the stops in it. Measured in
  // headless Chromium, one path of every disk's arc took 270 ms to fill
  // (the rasterizer sorts all their edges together) where filling the disks
  // one by one took 35 ms; same-coloured opaque disks drawn one over another
  // look like their union. Stops are 3-pixel squares: 12 ms for all of them,
  // against 64 ms as arcs, and no different to the eye at that size.
  paint() {
    const ctx = this.canvas.getContext("2d");
    const dpr = this.dpr || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.proj) {
      this.viewport.dataset.stopsPainted = "0";
      return;
    }
    const { s, tx, ty } = this.view;
    const colours = this.colours();
    if (this.areaPath) {
      ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * tx, dpr * ty);
      ctx.fillStyle = colours.area;
      ctx.fill(this.areaPath, "evenodd");
      ctx.setTransform(1, 0, 0, 1, 0, 0);
    }
    const w = this.size.w * dpr;
    const h = this.size.h * dpr;
    const k = s * dpr;
    const ox = tx * dpr;
    const oy = ty * dpr;
    const xs = this.xs;
    const ys = this.ys;
    const rp = this.radius * k;
    if (rp >= 0.5) {
      ctx.fillStyle = colours.disk;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i] * k + ox;
        const y = ys[i] * k + oy;
        if (x < -rp || x > w + rp || y < -rp || y > h + rp) continue;
        ctx.beginPath();
        ctx.arc(x, y, rp, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    const half = STOP_HALF_PX * dpr;
    const side = 2 * half;
    let painted = 0;
    ctx.fillStyle = colours.stop;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i] * k + ox;
      const y = ys[i] * k + oy;
      if (x < -half || x > w + half || y < -half || y > h + half) continue;
      ctx.fillRect(x - half, y - half, side, side);
      painted++;
    }
    this.viewport.dataset.stopsPainted = String(painted);
  }

  // ------------------------------------------------------------ view

  resize() {
    const r = this.viewport.getBoundingClientRect();
    const w = Math.max(1, Math.round(r.width));
    const h = Math.max(1, Math.round(r.height));
    const dpr = window.devicePixelRatio || 1;
    if (w === this.size.w && h === this.size.h && dpr === this.dpr) return;
    // Keep the point at the centre where it was.
    const cx = (this.size.w / 2 - this.live.tx) / this.live.s;
    const cy = (this.size.h / 2 - this.live.ty) / this.live.s;
    this.size = { w, h };
    this.dpr = dpr;
    this.svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    this.svg.setAttribute("width", w);
    this.svg.setAttribute("height", h);
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    if (!this.proj) return;
    if (this.fitted) {
      this.fit();
      this.commit();
      return;
    }
    this.live.tx = w / 2 - cx * this.live.s;
    this.live.ty = h / 2 - cy * this.live.s;
    this.commit();
  }

  fit() {
    if (!this.extent) return;
    const { x0, x1, y0, y1 } = this.extent;
    const w = Math.max(x1 - x0, 100);
    const h = Math.max(y1 - y0, 100);
    const s = Math.min(this.size.w / (w * 1.06), this.size.h / (h * 1.06));
    this.fitScale = s;
    this.live = { s, tx: this.size.w / 2 - (s * (x0 + x1)) / 2, ty: this.size.h / 2 - (s * (y0 + y1)) / 2 };
    this.scheduleCommit(0);
    this.fitted = true;
  }

  zoomAt(factor, px, py) {
    if (!this.proj) return;
    this.fitted = false;
    const s = Math.min(Math.max(this.live.s * factor, this.fitScale * MIN_ZOOM), this.fitScale * MAX_ZOOM);
    const f = s / this.live.s;
    this.live = { s, tx: px - f * (px - this.live.tx), ty: py - f * (py - this.live.ty) };
    this.scheduleCommit();
  }

  zoom(factor) {
    this.zoomAt(factor, this.size.w / 2, this.size.h / 2);
  }

  // centreOn brings a WGS-84 position to the centre, zooming in to at
  // least four times the fitted scale, so that a listed gap or stop is seen.
  centreOn(lon, lat) {
    if (!this.proj) return;
    this.fitted = false;
    const s = Math.max(this.live.s, this.fitScale * 4);
    this.live = { s, tx: this.size.w / 2 - s * this.proj.x(lon), ty: this.size.h / 2 - s * this.proj.y(lat) };
    this.scheduleCommit(0);
  }

  panBy(dx, dy) {
    if (!this.proj) return;
    this.fitted = false;
    this.live = { ...this.live, tx: this.live.tx + dx, ty: this.live.ty + dy };
    this.scheduleCommit();
  }

  // scheduleCommit shows the live view at once as a transform of the layers
  // already drawn, and commits it after a pause.
  scheduleCommit(delay = COMMIT_DELAY_MS) {
    const a = this.live.s / this.view.s;
    const bx = this.live.tx - a * this.view.tx;
    const by = this.live.ty - a * this.view.ty;
    this.layers.style.transform = `translate(${bx}px, ${by}px) scale(${a})`;
    this.onViewChange(this.live);
    clearTimeout(this.commitTimer);
    this.commitTimer = setTimeout(() => this.commit(), delay);
  }

  commit() {
    clearTimeout(this.commitTimer);
    const t0 = performance.now();
    this.view = { ...this.live };
    const { s, tx, ty } = this.view;
    this.root.setAttribute("transform", `matrix(${s} 0 0 ${s} ${tx} ${ty})`);
    // Markers, labels and outlines keep their size on screen: CSS sizes
    // them in multiples of 1/scale.
    this.svg.style.setProperty("--k", String(1 / s));
    this.paint();
    this.layers.style.transform = "";
    this.onViewChange(this.view);
    this.painted(t0).then((ms) => {
      this.viewport.dataset.commitMs = String(ms);
    });
  }

  bindEvents() {
    const vp = this.viewport;
    vp.addEventListener("pointerdown", (e) => {
      if (e.button !== 0 || !this.proj) return;
      this.drag = { x: e.clientX, y: e.clientY, id: e.pointerId };
      // Capture keeps the drag going when the pointer leaves the map; a
      // pointer the browser does not know (a synthetic event) cannot be
      // captured, and the drag works without.
      try {
        vp.setPointerCapture(e.pointerId);
      } catch {
        // see above
      }
      vp.classList.add("dragging");
    });
    vp.addEventListener("pointermove", (e) => {
      if (!this.drag || e.pointerId !== this.drag.id) return;
      const dx = e.clientX - this.drag.x;
      const dy = e.clientY - this.drag.y;
      this.drag.x = e.clientX;
      this.drag.y = e.clientY;
      this.panBy(dx, dy);
    });
    const end = (e) => {
      if (!this.drag || e.pointerId !== this.drag.id) return;
      this.drag = null;
      vp.classList.remove("dragging");
    };
    vp.addEventListener("pointerup", end);
    vp.addEventListener("pointercancel", end);
    vp.addEventListener(
      "wheel",
      (e) => {
        if (!this.proj) return;
        e.preventDefault();
        const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.size.h : 1;
        const r = vp.getBoundingClientRect();
        this.zoomAt(Math.exp(-e.deltaY * unit * 0.0015), e.clientX - r.left, e.clientY - r.top);
      },
      { passive: false },
    );
    vp.addEventListener("dblclick", (e) => {
      const r = vp.getBoundingClientRect();
      this.zoomAt(e.shiftKey ? 0.5 : 2, e.clientX - r.left, e.clientY - r.top);
    });
    vp.addEventListener("keydown", (e) => {
      if (e.target !== vp || e.altKey || e.ctrlKey || e.metaKey) return;
      const step = (e.shiftKey ? 0.4 : 0.12) * Math.min(this.size.w, this.size.h);
      const keys = {
        ArrowLeft: () => this.panBy(step, 0),
        ArrowRight: () => this.panBy(-step, 0),
        ArrowUp: () => this.panBy(0, step),
        ArrowDown: () => this.panBy(0, -step),
        "+": () => this.zoom(1.5),
        "=": () => this.zoom(1.5),
        "-": () => this.zoom(1 / 1.5),
        _: () => this.zoom(1 / 1.5),
        "0": () => this.fit(),
        Home: () => this.fit(),
      };
      const fn = keys[e.key];
      if (!fn) return;
      e.preventDefault();
      fn();
    });
  }
}

// niceScale picks a round length (1, 2 or 5 × 10ⁿ m) that spans at most
// maxPx pixels, for the scale bar.
export function niceScale(metresPerPixel, maxPx = 120) {
  const max = metresPerPixel * maxPx;
  const pow = Math.pow(10, Math.floor(Math.log10(max)));
  let len = pow;
  for (const m of [5, 2, 1]) {
    if (m * pow <= max) {
      len = m * pow;
      break;
    }
  }
  return { metres: len, px: len / metresPerPixel };
}
