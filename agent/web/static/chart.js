// Hand-made SVG charts for the hems page: stacked panels over one time axis, no library.
// Each panel: step lines (a value holds over its plan step), optional bars and shaded bands.
"use strict";

const HemsChart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PANEL_H = 96, GAP = 26, LEFT = 46, RIGHT = 10, TOP = 16, AXIS_H = 18;

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (parent) parent.appendChild(e);
    return e;
  }

  function finite(values) {
    return (values || []).filter((v) => typeof v === "number" && Number.isFinite(v));
  }

  function niceTicks(lo, hi, count) {
    if (lo === hi) { lo -= 1; hi += 1; }
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const start = Math.floor(lo / step) * step, end = Math.ceil(hi / step) * step;
    const ticks = [];
    for (let t = start; t <= end + step / 2; t += step) ticks.push(Number(t.toFixed(6)));
    return ticks;
  }

  function fmt(v) {
    const a = Math.abs(v);
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1).replace(/\.0$/, "");
    if (a >= 1) return v.toFixed(1);
    return v.toFixed(2);
  }

  function timeLabel(iso) {
    const d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // One step path: flat over each interval [i, i+1).
  function stepPath(values, x, y) {
    let d = "", pen = false;
    values.forEach((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v)) { pen = false; return; }
      d += (pen ? "L" : "M") + x(i).toFixed(1) + "," + y(v).toFixed(1) + "L" + x(i + 1).toFixed(1) + "," + y(v).toFixed(1);
      pen = true;
    });
    return d;
  }

  function bandPath(lo, hi, n, x, y) {
    const at = (b, i) => (Array.isArray(b) ? b[i] : b);
    let top = "", bottom = "";
    for (let i = 0; i < n; i++) {
      top += (i ? "L" : "M") + x(i).toFixed(1) + "," + y(at(hi, i)).toFixed(1) + "L" + x(i + 1).toFixed(1) + "," + y(at(hi, i)).toFixed(1);
    }
    for (let i = n - 1; i >= 0; i--) {
      bottom += "L" + x(i + 1).toFixed(1) + "," + y(at(lo, i)).toFixed(1) + "L" + x(i).toFixed(1) + "," + y(at(lo, i)).toFixed(1);
    }
    return top + bottom + "Z";
  }

  function draw(container, spec) {
    const n = spec.labels.length;
    const width = Math.max(280, container.clientWidth || 600);
    const panels = spec.panels.filter((p) => p.series.some((s) => finite(s.values).length));
    const height = TOP + panels.length * (PANEL_H + GAP) + AXIS_H;
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, "data-intervals": n });
    container.replaceChildren(svg); // in the document first, so text can be measured for the legends
    const x = (i) => LEFT + (i / Math.max(1, n)) * (width - LEFT - RIGHT);
    panels.forEach((p, k) => {
      const top = TOP + k * (PANEL_H + GAP);
      const g = el("g", { class: "panel", "data-panel": p.key }, svg);
      let vals = p.series.flatMap((s) => finite(s.values));
      for (const b of p.bands || []) vals = vals.concat(finite([].concat(b.lo)), finite([].concat(b.hi)));
      if (p.zero) vals.push(0);
      let lo = Math.min(...vals), hi = Math.max(...vals);
      const ticks = niceTicks(lo, hi, 3);
      lo = ticks[0]; hi = ticks[ticks.length - 1];
      const y = (v) => top + PANEL_H - ((v - lo) / (hi - lo || 1)) * PANEL_H;
      for (const t of ticks) {
        el("line", { class: "gridline", x1: LEFT, x2: width - RIGHT, y1: y(t), y2: y(t) }, g);
        el("text", { x: LEFT - 4, y: y(t) + 4, "text-anchor": "end" }, g).textContent = fmt(t);
      }
      const title = el("text", { class: "title", x: LEFT, y: top - 5 }, g);
      title.textContent = p.title + (p.unit ? ` (${p.unit})` : "");
      let lx = LEFT + title.getComputedTextLength() + 14;
      for (const b of p.bands || []) el("path", { class: `band ${b.cls}`, d: bandPath(b.lo, b.hi, n, x, y) }, g);
      for (const s of p.series) {
        if (!finite(s.values).length) continue;
        if (s.kind === "bars") {
          const w = Math.max(1, x(1) - x(0) - 1);
          s.values.forEach((v, i) => {
            if (typeof v !== "number" || !Number.isFinite(v)) return;
            const y0 = y(0), y1 = y(v);
            el("rect", { class: `bar ${s.cls}`, x: x(i), width: w, y: Math.min(y0, y1), height: Math.max(0.5, Math.abs(y1 - y0)) }, g);
          });
        } else {
          el("path", { class: `s ${s.cls}`, d: stepPath(s.values, x, y), "data-series": s.cls }, g);
        }
        if (lx < width - 60) {
          el("rect", { class: `k ${s.cls}`, x: lx, y: top - 13, width: 10, height: 10, rx: 2 }, g);
          const t = el("text", { x: lx + 13, y: top - 5 }, g);
          t.textContent = s.label;
          lx += 13 + t.getComputedTextLength() + 12;
        }
      }
      if (spec.nowIndex !== null && spec.nowIndex !== undefined) {
        el("line", { class: "now", x1: x(spec.nowIndex), x2: x(spec.nowIndex), y1: top, y2: top + PANEL_H }, g);
      }
    });
    // Time axis: a label every few hours, chosen so labels never overlap.
    const axisY = TOP + panels.length * (PANEL_H + GAP) - GAP + 14;
    const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor((width - LEFT) / 70))));
    for (let i = 0; i < n; i += every) {
      el("text", { x: x(i), y: axisY, "text-anchor": "middle" }, svg).textContent = timeLabel(spec.labels[i]);
    }
    return svg;
  }

  return { draw, fmt };
})();
window.HemsChart = HemsChart;
