/*
 * The dashboard's activity chart (issue 12): today's people per 10 minutes and line crossings
 * per hour, drawn with uPlot (window.uPlot, /assets/uplot.min.js) from /api/activity, the same
 * numbers the API returns: bars of `people_max` and a line of `person_seconds / 60`
 * (person-minutes) per 10 minutes; bars of `crossings.in` and `crossings.out` per hour. Buckets
 * the API leaves out are zeros.
 *
 * Live without a stream of its own: it refreshes when the dashboard's "hazardcam:status" event
 * (every few seconds) or a 60 s timer finds that the minute rolled over since the last fetch,
 * and when the tab becomes visible again: at most once a minute, never while hidden.
 *
 * The panel's data-state says what it shows ("loading", "drawn", "empty": no data today,
 * "unavailable": no store or a failed fetch); #activity-summary carries the same numbers as
 * text (the chart's text alternative).
 */
(function () {
  "use strict";
  var root = document.getElementById("activity");
  if (!root) return;
  var note = document.getElementById("activity-note");
  var summary = document.getElementById("activity-summary");
  var boxes = {
    people: root.querySelector('[data-chart="people"]'),
    crossings: root.querySelector('[data-chart="crossings"]'),
  };
  var COLORS = { people: "#2563eb", pm: "#d97706", in: "#16a34a", out: "#dc2626" };
  var charts = { people: null, crossings: null };
  var day = null;
  var fetchedMinute = -1;
  var busy = false;

  function minuteNow() {
    return Math.floor(Date.now() / 60000);
  }

  function setState(state, text) {
    root.setAttribute("data-state", state);
    note.textContent = text || "";
    note.hidden = !text;
  }

  function getJson(url) {
    return fetch(url, { headers: { accept: "application/json" }, cache: "no-store" }).then(
      function (r) {
        return r.json().then(function (j) {
          if (!r.ok) throw new Error(j.reason || "HTTP " + r.status);
          return j;
        });
      },
    );
  }

  /** Every bucket of the range (absent buckets are zeros) at its middle, in seconds for uPlot. */
  function grid(j, stepSec) {
    var stepMs = stepSec * 1000;
    var byStart = {};
    j.buckets.forEach(function (b) {
      byStart[b.start] = b;
    });
    var cells = [];
    for (var t = j.from; t < j.to; t += stepMs) cells.push({ start: t, b: byStart[t] || null });
    j.buckets.forEach(function (b) {
      // A bucket off the grid (a time zone with a 30 or 45 minute offset): drawn where it is.
      if ((b.start - j.from) % stepMs !== 0) cells.push({ start: b.start, b: b });
    });
    cells.sort(function (a, b) {
      return a.start - b.start;
    });
    return {
      xs: cells.map(function (c) {
        return c.start / 1000 + stepSec / 2;
      }),
      rows: cells.map(function (c) {
        return c.b;
      }),
    };
  }

  function column(rows, pick) {
    return rows.map(function (b) {
      return b ? pick(b) : 0;
    });
  }

  function peopleData(j) {
    var g = grid(j, 600);
    return [
      g.xs,
      column(g.rows, function (b) {
        return b.people_max;
      }),
      column(g.rows, function (b) {
        return Math.round((b.person_seconds / 60) * 10) / 10;
      }),
    ];
  }

  function crossingData(j) {
    var g = grid(j, 3600);
    return [
      g.xs,
      column(g.rows, function (b) {
        return b.crossings.in;
      }),
      column(g.rows, function (b) {
        return b.crossings.out;
      }),
    ];
  }

  function blank(u, splits) {
    return splits.map(function () {
      return "";
    });
  }

  function atLeast(n) {
    return function (u, min, max) {
      return [0, Math.max(n, Math.ceil(max || 0))];
    };
  }

  function bars(color, label, scale, align, size) {
    return {
      label: label,
      scale: scale,
      fill: color,
      stroke: color,
      width: 0,
      points: { show: false },
      paths: window.uPlot.paths.bars({ size: [size, 60], align: align }),
    };
  }

  /** The legend's time: the bucket under the cursor, start–end. */
  function bucketLabel(stepSec) {
    return function (u, v) {
      if (v == null) return "\u2013";
      return hhmm((v - stepSec / 2) * 1000) + "\u2013" + hhmm((v + stepSec / 2) * 1000);
    };
  }

  function baseOpts(width, j, stepSec, series, axes, scales) {
    scales.x = {
      time: true,
      range: function () {
        return [j.from / 1000, j.to / 1000];
      },
    };
    return {
      width: width,
      height: 170,
      scales: scales,
      series: [{ label: "time", value: bucketLabel(stepSec) }].concat(series),
      axes: [{ space: 50, values: timeLabels }].concat(axes),
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
    };
  }

  /** 24-hour labels in the browser's time (uPlot's default is 12-hour with dates). */
  function timeLabels(u, splits) {
    return splits.map(function (s) {
      return hhmm(s * 1000);
    });
  }

  var INTEGER = { space: 24, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] };

  function peopleOpts(width, j) {
    var series = [
      bars(COLORS.people, "most at once", "people", 0, 0.8),
      {
        label: "person-minutes",
        scale: "pm",
        stroke: COLORS.pm,
        width: 2,
        points: { show: false },
      },
    ];
    var axes = [
      Object.assign({ scale: "people", size: 36 }, INTEGER),
      { scale: "pm", side: 1, size: 44, grid: { show: false } },
    ];
    return baseOpts(width, j, 600, series, axes, {
      people: { range: atLeast(1) },
      pm: { range: atLeast(1) },
    });
  }

  function crossingOpts(width, j) {
    var series = [bars(COLORS.in, "in", "n", -1, 0.45), bars(COLORS.out, "out", "n", 1, 0.45)];
    // An empty right axis as wide as the people chart's, so both time axes line up.
    var axes = [
      Object.assign({ scale: "n", size: 36 }, INTEGER),
      {
        scale: "n",
        side: 1,
        size: 44,
        grid: { show: false },
        ticks: { show: false },
        values: blank,
      },
    ];
    return baseOpts(width, j, 3600, series, axes, { n: { range: atLeast(1) } });
  }

  function width() {
    return Math.max(240, Math.floor(boxes.people.clientWidth || root.clientWidth - 28));
  }

  function draw(name, opts, data, sameDay) {
    if (charts[name] && sameDay) {
      charts[name].setData(data);
      return;
    }
    if (charts[name]) charts[name].destroy();
    boxes[name].textContent = "";
    charts[name] = new window.uPlot(opts, data, boxes[name]);
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function hhmm(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function busiest(j) {
    var best = null;
    j.buckets.forEach(function (b) {
      if (!best || b.people_max > best.people_max) best = b;
    });
    return best;
  }

  function describe(people, cross) {
    var t = people.totals;
    if (people.buckets.length === 0) return "No activity today yet.";
    var b = busiest(people);
    var text =
      "Today: most at once " +
      t.people_max +
      " (" +
      hhmm(b.start) +
      "\u2013" +
      hhmm(b.end) +
      "), " +
      Math.round(t.person_seconds / 6) / 10 +
      " person-minutes";
    var lines = Object.keys(cross.totals.lines)
      .sort()
      .map(function (name) {
        var l = cross.totals.lines[name];
        return name + " " + l.in + " in, " + l.out + " out";
      });
    return text + (lines.length ? "; crossings: " + lines.join("; ") : "") + ".";
  }

  function show(people, cross) {
    var sameDay = day === people.from;
    day = people.from;
    var w = width();
    draw("people", peopleOpts(w, people), peopleData(people), sameDay);
    draw("crossings", crossingOpts(w, cross), crossingData(cross), sameDay);
    var empty = people.buckets.length === 0 && cross.buckets.length === 0;
    setState(empty ? "empty" : "drawn", empty ? "No activity today yet." : "");
    summary.textContent = describe(people, cross);
  }

  function refresh() {
    if (busy) return;
    if (!window.uPlot) {
      setState("unavailable", "No activity chart: the chart library did not load.");
      return;
    }
    busy = true;
    fetchedMinute = minuteNow();
    getJson("/api/activity?bucket=10min")
      .then(function (people) {
        var q = "from=" + people.from + "&to=" + people.to + "&bucket=hour";
        return getJson("/api/activity?" + q).then(function (cross) {
          show(people, cross);
        });
      })
      .catch(function (e) {
        // The 503's reason already starts with "no activity data".
        var m = String(e.message || e);
        var text = /^no activity data/i.test(m) ? m : "No activity data: " + m;
        setState("unavailable", text.charAt(0).toUpperCase() + text.slice(1));
      })
      .then(function () {
        busy = false;
      });
  }

  function maybeRefresh() {
    if (!document.hidden && minuteNow() !== fetchedMinute) refresh();
  }

  function resize() {
    var w = width();
    ["people", "crossings"].forEach(function (name) {
      var c = charts[name];
      if (c && Math.abs(c.width - w) > 2) c.setSize({ width: w, height: 170 });
    });
  }

  window.addEventListener("hazardcam:status", maybeRefresh);
  document.addEventListener("visibilitychange", maybeRefresh);
  setInterval(maybeRefresh, 60000);
  if (window.ResizeObserver) new ResizeObserver(resize).observe(root);
  else window.addEventListener("resize", resize);
  refresh();
})();
