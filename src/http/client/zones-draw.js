// Painting for the zone editor's layer (src/http/client/zones.js): zones outlined with their
// names and people now, masks shaded, lines with an arrow to their `in` side (a→b turned 90°
// clockwise on the screen, as src/track/zones.ts inNormal), the shape being drawn. Points are
// [x, y] 0..1 of the picture; W, H the canvas size in device pixels. Served inside a <script>.
window.hazardcamZonesPainter = function (ctx, W, H, dpr) {
  "use strict";
  var C = { zones: "#38bdf8", masks: "#e5e7eb", lines: "#facc15", draft: "#f472b6" };

  function px(p) {
    return [p[0] * W, p[1] * H];
  }
  function clamp(v, lo, hi) {
    return Math.max(lo, Math.min(hi, v));
  }
  function path(points, close) {
    ctx.beginPath();
    points.forEach(function (p, i) {
      var q = px(p);
      if (i) ctx.lineTo(q[0], q[1]);
      else ctx.moveTo(q[0], q[1]);
    });
    if (close) ctx.closePath();
  }
  function centre(points) {
    var x = 0;
    var y = 0;
    points.forEach(function (p) {
      x += p[0];
      y += p[1];
    });
    return px([x / points.length, y / points.length]);
  }
  // A name tag on a dark box, kept inside the picture.
  function label(text, at, color) {
    var pad = 4 * dpr;
    var h = 18 * dpr;
    var w = ctx.measureText(text).width + 2 * pad;
    var x = clamp(at[0] - w / 2, 0, W - w);
    var y = clamp(at[1] - h / 2, 0, H - h);
    ctx.fillStyle = "rgba(17, 24, 39, 0.8)";
    ctx.fillRect(x, y, w, h);
    ctx.fillStyle = color;
    ctx.fillText(text, x + pad, y + h / 2);
  }
  function handles(points, color) {
    var s = 9 * dpr;
    points.forEach(function (p) {
      var q = px(p);
      ctx.fillStyle = "#fff";
      ctx.fillRect(q[0] - s / 2, q[1] - s / 2, s, s);
      ctx.strokeStyle = color;
      ctx.strokeRect(q[0] - s / 2, q[1] - s / 2, s, s);
    });
  }
  function people(n) {
    return n === 1 ? "1 person" : n + " people";
  }

  function zone(z, on, n) {
    path(z.points, true);
    ctx.fillStyle = on ? "rgba(56, 189, 248, 0.3)" : "rgba(56, 189, 248, 0.12)";
    ctx.fill();
    ctx.strokeStyle = C.zones;
    ctx.lineWidth = (on ? 3 : 2) * dpr;
    ctx.stroke();
    label(typeof n === "number" ? z.name + " · " + people(n) : z.name, centre(z.points), C.zones);
    if (on) handles(z.points, C.zones);
  }

  function mask(m, on) {
    path(m.points, true);
    ctx.fillStyle = on ? "rgba(17, 24, 39, 0.7)" : "rgba(17, 24, 39, 0.55)";
    ctx.fill();
    ctx.setLineDash([6 * dpr, 4 * dpr]);
    ctx.strokeStyle = C.masks;
    ctx.lineWidth = (on ? 3 : 2) * dpr;
    ctx.stroke();
    ctx.setLineDash([]);
    label("mask " + m.name, centre(m.points), C.masks);
    if (on) handles(m.points, C.masks);
  }

  function arrow(from, to) {
    var dx = to[0] - from[0];
    var dy = to[1] - from[1];
    var len = Math.hypot(dx, dy) || 1;
    var ux = dx / len;
    var uy = dy / len;
    var head = 9 * dpr;
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.moveTo(to[0] - head * (ux - uy * 0.6), to[1] - head * (uy + ux * 0.6));
    ctx.lineTo(to[0], to[1]);
    ctx.lineTo(to[0] - head * (ux + uy * 0.6), to[1] - head * (uy - ux * 0.6));
    ctx.stroke();
  }

  function line(l, on, totals) {
    var a = px(l.a);
    var b = px(l.b);
    ctx.strokeStyle = C.lines;
    ctx.lineWidth = (on ? 4 : 3) * dpr;
    path([l.a, l.b], false);
    ctx.stroke();
    // The `in` side, in screen pixels: scaling x and y apart keeps which side is which.
    var dx = b[0] - a[0];
    var dy = b[1] - a[1];
    var len = Math.hypot(dx, dy) || 1;
    var n = [-dy / len, dx / len];
    var mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    var reach = 30 * dpr;
    ctx.lineWidth = 2 * dpr;
    arrow(mid, [mid[0] + n[0] * reach, mid[1] + n[1] * reach]);
    label("in", [mid[0] + n[0] * (reach + 12 * dpr), mid[1] + n[1] * (reach + 12 * dpr)], C.lines);
    var t = totals ? " · in " + totals.in + " · out " + totals.out : "";
    // On the line a quarter of the way from a: clear of the arrow, whichever way it points.
    label(l.name + t, [a[0] + dx / 4, a[1] + dy / 4], C.lines);
    label("a", [a[0], a[1] - 14 * dpr], C.lines);
    label("b", [b[0], b[1] - 14 * dpr], C.lines);
    if (on) handles([l.a, l.b], C.lines);
  }

  // The one being drawn: its points so far and, with a mouse, a rubber band to the pointer.
  function draft(kind, points, hover) {
    ctx.strokeStyle = C.draft;
    ctx.lineWidth = 2 * dpr;
    ctx.setLineDash([5 * dpr, 4 * dpr]);
    path(hover ? points.concat([hover]) : points, false);
    ctx.stroke();
    ctx.setLineDash([]);
    handles(points, C.draft);
    if (kind !== "lines" && points.length >= 3) {
      // Where to click to close it.
      var f = px(points[0]);
      ctx.beginPath();
      ctx.arc(f[0], f[1], 10 * dpr, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  return { zones: zone, masks: mask, lines: line, draft: draft };
};
