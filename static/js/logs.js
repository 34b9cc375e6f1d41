// The log viewer: follows a deployment's event stream while its "View logs" is open.
// Step lines from the pipeline ("▶ BUILDING", "■ BUILDING finished in 3.2s") become
// headers with durations; keep the markers in step with app/pipeline/run.py.
(function () {
  "use strict";

  var STEP_START = "▶ ";
  var STEP_END = "■ ";
  var sources = new WeakMap();

  function isAtBottom(viewer) {
    return viewer.scrollTop + viewer.clientHeight >= viewer.scrollHeight - 8;
  }

  function stepHeader(viewer, name) {
    var header = document.createElement("div");
    header.className = "log-step";
    header.dataset.step = name;
    var title = document.createElement("span");
    title.textContent = name;
    var time = document.createElement("span");
    time.className = "log-step-time";
    time.textContent = "running…";
    header.append(title, time);
    return header;
  }

  function finishStep(viewer, text) {
    var match = /^(\S+) (finished|stopped) in (.*)$/.exec(text);
    if (!match) return false;
    var headers = viewer.querySelectorAll('.log-step[data-step="' + match[1] + '"]');
    var header = headers[headers.length - 1];
    if (!header) return false;
    header.querySelector(".log-step-time").textContent = match[3];
    header.classList.add(match[2] === "finished" ? "ok" : "stopped");
    return true;
  }

  function lineElement(line) {
    var row = document.createElement("div");
    row.className = "log-line log-" + line.stream;
    row.dataset.seq = line.seq;
    row.textContent = line.text;
    return row;
  }

  function append(viewer, line) {
    var lines = viewer.querySelector(".log-lines");
    var follow = isAtBottom(viewer);
    viewer.querySelector(".log-empty").hidden = true;
    if (line.stream === "system" && line.text.indexOf(STEP_START) === 0) {
      lines.append(stepHeader(viewer, line.text.slice(STEP_START.length)));
    } else if (!(line.stream === "system" && line.text.indexOf(STEP_END) === 0 &&
                 finishStep(viewer, line.text.slice(STEP_END.length)))) {
      lines.append(lineElement(line));
    }
    viewer.dataset.lastSeq = line.seq;
    if (follow) viewer.scrollTop = viewer.scrollHeight;
  }

  function connect(viewer) {
    if (sources.has(viewer) || viewer.dataset.state === "ended") return;
    var url = viewer.dataset.eventsUrl + "?after=" + (viewer.dataset.lastSeq || 0);
    var source = new EventSource(url);
    sources.set(viewer, source);
    viewer.dataset.state = "live";
    source.addEventListener("log", function (event) {
      append(viewer, JSON.parse(event.data));
    });
    source.addEventListener("status", function (event) {
      viewer.dataset.lastSeq = event.lastEventId;
      viewer.dataset.status = JSON.parse(event.data).status;
    });
    source.addEventListener("end", function () {
      source.close();
      sources.delete(viewer);
      viewer.dataset.state = "ended";
    });
  }

  function disconnect(viewer) {
    var source = sources.get(viewer);
    if (source) source.close();
    sources.delete(viewer);
    if (viewer.dataset.state === "live") viewer.dataset.state = "paused";
  }

  function scan(root) {
    root.querySelectorAll("details.logs[open] .log-viewer").forEach(connect);
  }

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.classList.contains("logs")) return;
    var viewer = details.querySelector(".log-viewer");
    if (details.open) connect(viewer); else disconnect(viewer);
  }, true);
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (event) { scan(event.detail.elt); });
})();
