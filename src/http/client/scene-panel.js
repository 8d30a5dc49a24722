// The dashboard's scene panel (issue 11), in the browser: people per zone, line totals since
// local midnight, and the open visit. Fed by the dashboard's window events, never a stream of its
// own: "hazardcam:status" (the status, carrying the scene fields at the top level or under
// "scene") and "hazardcam:frame" (its `tracks` keep the people per zone live between two statuses). Hidden
// until the first scene fields arrive, so a server without the scene analyzer shows nothing.
// Plain ES5, DOM built with textContent; served verbatim inside a <script>.
(function () {
  "use strict";
  var $ = function (id) {
    return document.getElementById(id);
  };
  var panel = $("scene-panel");
  if (!panel) return;
  var zones = []; // zone names, in the order of the zones file
  var noZones = true;

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function clock(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  function people(n) {
    return n === 1 ? "1 person" : n + " people";
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  // Rows of a <tbody>: one per [name, values...]; a placeholder row when there are none.
  function fill(id, rows, empty) {
    var body = $(id);
    if (!body) return;
    while (body.firstChild) body.removeChild(body.firstChild);
    if (rows.length === 0) {
      var tr = document.createElement("tr");
      var td = cell(tr, empty, "muted");
      td.colSpan = 3;
      body.appendChild(tr);
      return;
    }
    for (var i = 0; i < rows.length; i++) {
      var r = document.createElement("tr");
      r.setAttribute("data-name", rows[i][0]);
      cell(r, rows[i][0]);
      for (var k = 1; k < rows[i].length; k++) cell(r, String(rows[i][k]), "num");
      body.appendChild(r);
    }
  }

  function showZones(counts, inZones) {
    var rows = [];
    for (var i = 0; i < zones.length; i++) rows.push([zones[i], counts[zones[i]] || 0]);
    fill("scene-zones", rows, "No zones: the whole picture counts.");
    $("scene-in-zones").textContent = String(inZones);
  }

  function showLines(lines, day) {
    var rows = [];
    for (var name in lines) {
      if (Object.prototype.hasOwnProperty.call(lines, name)) {
        rows.push([name, lines[name].in, lines[name].out]);
      }
    }
    fill("scene-lines", rows, "No counting lines.");
    $("scene-day").textContent = day ? "since midnight, " + day : "";
  }

  function showVisit(v) {
    var el = $("scene-visit");
    while (el.firstChild) el.removeChild(el.firstChild);
    el.setAttribute("data-visit-id", v ? String(v.id) : "");
    if (!v) {
      el.textContent = "No visit open.";
      return;
    }
    var a = document.createElement("a");
    a.href = "/visits/" + v.id;
    a.textContent = "Visit #" + v.id;
    el.appendChild(a);
    var text =
      " open since " +
      clock(v.start) +
      " · " +
      people(v.people) +
      " (most at once " +
      v.max_people +
      ")" +
      (v.zones && v.zones.length ? " · " + v.zones.join(", ") : "");
    el.appendChild(document.createTextNode(text));
  }

  function apply(s) {
    if (!s || typeof s.zone_people !== "object" || s.zone_people === null) return;
    zones = Object.keys(s.zone_people);
    noZones = zones.length === 0;
    panel.classList.remove("hidden");
    showZones(s.zone_people, s.people_in_zones || 0);
    if (s.lines && typeof s.lines === "object") showLines(s.lines, s.day);
    if ("visit" in s) showVisit(s.visit);
    var err = $("scene-zones-error");
    err.textContent = s.zones_error ? "zones.json: " + s.zones_error : "";
    err.classList.toggle("hidden", !s.zones_error);
  }

  // People per zone from a frame's tracks (each with the zones its feet are in).
  function fromTracks(tracks) {
    if (panel.classList.contains("hidden")) return;
    var counts = {};
    var inZones = 0;
    for (var i = 0; i < tracks.length; i++) {
      var tz = tracks[i].zones || [];
      if (noZones || tz.length > 0) inZones++;
      for (var k = 0; k < tz.length; k++) counts[tz[k]] = (counts[tz[k]] || 0) + 1;
    }
    showZones(counts, inZones);
  }

  window.addEventListener("hazardcam:status", function (ev) {
    var s = ev.detail || {};
    apply(s.scene || s);
  });
  window.addEventListener("hazardcam:frame", function (ev) {
    var f = ev.detail || {};
    if (f.tracks && f.tracks.length !== undefined) fromTracks(f.tracks);
  });
})();
