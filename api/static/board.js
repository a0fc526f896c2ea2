/* The coordinator's board: what the page does beyond showing the day (report.js already
   gives tooltips, picking out a carer and linking double-ups). It acts through the JSON
   API with the session cookie and the page's CSRF token:
   - a visit clicked (or Enter on it): its panel, "who can take this?" and "move to";
   - a visit dragged onto another carer's row: checked against the rules as it moves
     (the recommendation for the visit says who can take it, and why not for the rest),
     and again by the service when dropped; a refusal says why;
   - an event reported: a replan is drafted, not published, and opened as a preview;
   - a draft: publish to the carers, undo (back to the plan before it), or discard;
   - the live stream: check-ins and check-outs recolour visits; a plan published elsewhere
     reloads the page; the "now" line moves with the clock.
   When wired it marks the body with data-board-ready="1" (the tests wait for it). */
(function () {
  "use strict";
  var body = document.body;
  var date = body.getAttribute("data-date");
  var planNo = Number(body.getAttribute("data-plan"));
  var isDraft = body.getAttribute("data-status") === "draft";
  var etag = body.getAttribute("data-etag");
  var back = (body.getAttribute("data-back") || "").split(",").filter(Boolean).map(Number);
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var say = document.getElementById("say");
  var selected = null, dragged = null, verdicts = null;
  var waitingFor = {};

  function $(id) { return document.getElementById(id); }
  function all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function announce(text, bad) {
    say.textContent = text;
    say.classList.toggle("bad", !!bad);
    say.classList.add("shown");
  }
  function boardUrl(plan, stack) {
    var url = "/board/" + date;
    if (plan) url += "?plan=" + plan + (stack && stack.length ? "&back=" + stack.join(",") : "");
    return url;
  }

  // -- the API -----------------------------------------------------------------------------
  function problemText(data, status) {
    if (!data) return "the service answered " + status;
    if (data.errors && data.errors.length) {
      return data.errors.map(function (e) { return e.field + ": " + e.reason; }).join("; ");
    }
    return data.detail || data.title || "the service answered " + status;
  }
  function api(method, path, payload, headers) {
    var sent = { "Accept": "application/json", "X-CSRF-Token": csrf };
    if (payload !== undefined) sent["Content-Type"] = "application/json";
    Object.keys(headers || {}).forEach(function (k) { sent[k] = headers[k]; });
    return fetch(path, {
      method: method, headers: sent, credentials: "same-origin",
      body: payload === undefined ? undefined : JSON.stringify(payload)
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) {
          var error = new Error(problemText(data, response.status));
          error.status = response.status;
          error.data = data;
          throw error;
        }
        return data;
      });
    });
  }
  function failed(what) {
    return function (error) { announce(what + ": " + error.message, true); throw error; };
  }

  // -- a visit chosen ------------------------------------------------------------------------
  function visitOf(el) { return el && el.closest ? el.closest("[data-visit]") : null; }
  function carerOfBlock(el) {
    var row = el.closest(".row[data-carer-id]");
    return row ? row.getAttribute("data-carer-id") : null;
  }
  function choose(block) {
    selected = { visit: block.getAttribute("data-visit"), carer: carerOfBlock(block), open: block.classList.contains("open") };
    all(".visit.chosen").forEach(function (el) { el.classList.remove("chosen"); });
    all('.visit[data-visit="' + cssEscape(selected.visit) + '"]').forEach(function (el) { el.classList.add("chosen"); });
    $("visit-panel").hidden = false;
    $("visit-id").textContent = selected.visit;
    $("visit-facts").textContent = (block.getAttribute("data-tip") || "").replace(/\n/g, " · ") +
      (selected.carer ? " · now with " + selected.carer : "");
    $("recommendations").textContent = "";
    $("refusal").hidden = true;
    $("cancel-visit").hidden = selected.open;
    $("visit-panel").scrollIntoView({ block: "nearest" });
  }
  function cssEscape(text) { return window.CSS && CSS.escape ? CSS.escape(text) : text.replace(/"/g, '\\"'); }

  document.addEventListener("click", function (ev) {
    var block = visitOf(ev.target);
    if (block && block.tagName === "BUTTON") { choose(block); return; }
    var label = ev.target.closest ? ev.target.closest(".row[data-carer-id] .label") : null;
    if (label) showCarer(label.closest(".row").getAttribute("data-carer-id"), label.closest(".row").getAttribute("data-carer"));
  });

  // -- who can take this? ------------------------------------------------------------------
  function recommend(visit, top) {
    return api("POST", "/v1/days/" + date + "/recommendations?top=" + (top || 5), { visit: visit });
  }
  $("who").addEventListener("click", function () {
    if (!selected) return;
    var box = $("recommendations");
    box.textContent = "Asking…";
    recommend(selected.visit, 5).then(function (answer) {
      box.textContent = "";
      var h = document.createElement("h3");
      h.textContent = answer.options.length ? "Who can take " + answer.visit : "Nobody can take " + answer.visit;
      box.appendChild(h);
      var list = document.createElement("ol");
      list.className = "options";
      answer.options.forEach(function (option) {
        var li = document.createElement("li");
        var who = option.carer + (option.partner ? " with " + option.partner : "");
        li.innerHTML = "";
        var text = document.createElement("span");
        text.textContent = who + " — starts " + hhmm(option.start) + ", cost " + signed(option.cost_delta) +
          ", travel " + signed(option.travel_delta) + " min";
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = "Give to " + option.carer;
        button.setAttribute("data-apply", option.carer);
        button.addEventListener("click", function () { move(answer.visit, option.carer, option.partner); });
        li.appendChild(text);
        li.appendChild(button);
        list.appendChild(li);
      });
      box.appendChild(list);
      if (answer.unavailable.length) {
        var more = document.createElement("details");
        var summary = document.createElement("summary");
        summary.textContent = "Why not the others (" + answer.unavailable.length + ")";
        more.appendChild(summary);
        var reasons = document.createElement("ul");
        reasons.className = "reasons";
        answer.unavailable.forEach(function (item) {
          var li = document.createElement("li");
          li.textContent = item.reason;
          reasons.appendChild(li);
        });
        more.appendChild(reasons);
        box.appendChild(more);
      }
      announce(answer.options.length + " carers can take " + answer.visit);
    }).catch(function (error) { box.textContent = ""; announce("Who can take this: " + error.message, true); });
  });
  function hhmm(minutes) {
    var m = Math.round(minutes), h = Math.floor(m / 60) % 24;
    return (h < 10 ? "0" : "") + h + ":" + (m % 60 < 10 ? "0" : "") + (m % 60);
  }
  function signed(x) { return (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(1); }

  // -- moving a visit: a draft, previewed ----------------------------------------------------
  function move(visit, carer, partner) {
    announce("Checking " + visit + " on " + carer + "…");
    return api("POST", "/v1/days/" + date + "/plans/" + planNo + "/moves", { visit: visit, carer: carer, partner: partner || null })
      .then(function (draft) {
        announce("Draft plan " + draft.number + ": " + visit + " to " + carer + ". Opening the preview…");
        location.assign(boardUrl(draft.number, isDraft ? [planNo].concat(back) : []));
      })
      .catch(function (error) { refuse(visit, carer, error.message); });
  }
  function refuse(visit, carer, why) {
    announce("Refused: " + why, true);
    var block = document.querySelector('button.visit[data-visit="' + cssEscape(visit) + '"]');
    if (block && (!selected || selected.visit !== visit)) choose(block);
    var refusal = $("refusal");
    refusal.textContent = "Cannot move " + visit + " to " + carer + ": " + why;
    refusal.hidden = false;
  }
  $("move-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (selected) move(selected.visit, $("move-to").value, null);
  });
  $("cancel-visit").addEventListener("click", function () {
    if (selected) report([{ type: "visit_cancelled", visit: selected.visit }], "Cancelling " + selected.visit);
  });

  // Dragging: rows light up with the rules' verdict as the visit passes over them.
  document.addEventListener("dragstart", function (ev) {
    var block = visitOf(ev.target);
    if (!block) return;
    dragged = { visit: block.getAttribute("data-visit"), from: carerOfBlock(block) };
    ev.dataTransfer.setData("text/plain", dragged.visit);
    ev.dataTransfer.effectAllowed = "move";
    body.classList.add("dragging");
    verdicts = null;
    recommend(dragged.visit, 50).then(function (answer) {
      verdicts = {};
      answer.options.forEach(function (o) { verdicts[o.carer] = { ok: true, text: "can take it, cost " + signed(o.cost_delta) }; });
      answer.unavailable.forEach(function (u) {
        verdicts[u.carer] = { ok: u.code === "costlier", text: u.reason };
      });
      all(".row[data-carer-id]").forEach(paint);
    }).catch(function () { verdicts = null; });
  });
  function paint(row) {
    var v = verdicts && verdicts[row.getAttribute("data-carer-id")];
    row.classList.toggle("may", !!(v && v.ok));
    row.classList.toggle("may-not", !!(v && !v.ok));
    if (v) row.setAttribute("data-verdict", v.text); else row.removeAttribute("data-verdict");
  }
  document.addEventListener("dragover", function (ev) {
    var row = ev.target.closest ? ev.target.closest(".row[data-carer-id]") : null;
    if (!dragged || !row) return;
    ev.preventDefault();
    all(".row.over").forEach(function (r) { if (r !== row) r.classList.remove("over"); });
    row.classList.add("over");
    var v = verdicts && verdicts[row.getAttribute("data-carer-id")];
    ev.dataTransfer.dropEffect = v && !v.ok ? "none" : "move";
    $("drag-verdict").textContent = row.getAttribute("data-carer-id") + ": " + (v ? v.text : "checking…");
  });
  document.addEventListener("drop", function (ev) {
    var row = ev.target.closest ? ev.target.closest(".row[data-carer-id]") : null;
    if (!dragged || !row) return;
    ev.preventDefault();
    var to = row.getAttribute("data-carer-id"), visit = dragged.visit;
    endDrag();
    if (to === dragged.from) return;
    move(visit, to, null);
  });
  function endDrag() {
    body.classList.remove("dragging");
    all(".row.over,.row.may,.row.may-not").forEach(function (r) { r.classList.remove("over", "may", "may-not"); });
    $("drag-verdict").textContent = "";
  }
  // A row the rules refuse takes no drop (the browser fires no drop event there), so the
  // refusal is said when the drag ends over it.
  document.addEventListener("dragend", function (ev) {
    var row = document.querySelector(".row.over[data-carer-id]");
    var to = row && row.getAttribute("data-carer-id");
    var v = to && verdicts && verdicts[to];
    var refused = dragged && v && !v.ok && to !== dragged.from && ev.dataTransfer.dropEffect === "none";
    var visit = dragged && dragged.visit;
    endDrag();
    dragged = null;
    if (refused) refuse(visit, to, v.text);
  });

  // -- events: a replan drafted, then previewed ----------------------------------------------
  function minutesOf(value) {
    if (!value) return null;
    var parts = value.split(":");
    return Number(parts[0]) * 60 + Number(parts[1]);
  }
  function eventOf(form) {
    var f = function (name) { var el = form.elements[name]; return el ? el.value.trim() : ""; };
    var type = form.getAttribute("data-type"), event = { type: type };
    if (type === "carer_absent") {
      event.carer = f("carer");
      if (f("start")) event.start = minutesOf(f("start"));
      if (f("end")) event.end = minutesOf(f("end"));
    } else if (type === "carer_delayed") {
      event.carer = f("carer");
      event.minutes = Number(f("minutes"));
    } else if (type === "visit_cancelled") {
      event.visit = f("visit");
    } else if (type === "visit_changed") {
      event.visit = f("visit");
      if (f("window_start") || f("window_end")) {
        event.window = { start: minutesOf(f("window_start")) || 0, end: minutesOf(f("window_end")) };
      }
      if (f("duration")) event.duration = Number(f("duration"));
    } else if (type === "client_added") {
      var client = f("client");
      event.client = { id: client, name: f("name") || null, location: f("location") };
      event.visits = [{
        id: client + "-" + f("window_start").replace(":", ""), client: client,
        window: { start: minutesOf(f("window_start")), end: minutesOf(f("window_end")) },
        duration: Number(f("duration")), carers_needed: Number(f("carers_needed") || 1)
      }];
    }
    if (f("reason") && type !== "client_added" && type !== "visit_changed") event.reason = f("reason");
    return event;
  }
  function report(events, what) {
    announce(what + ": asking for a replan preview…");
    return api("POST", "/v1/days/" + date + "/events", { events: events, replan: true, publish: false })
      .then(function (accepted) {
        if (!accepted.job) { announce(what + ": recorded; the day has no published plan to replan yet"); return; }
        announce(what + ": replanning (job " + accepted.job + ")…");
        return untilDone(accepted.job).then(function (job) {
          if (job.status !== "done" || !job.result_plan) {
            announce(what + ": the replan " + job.status + (job.error ? " — " + job.error : ""), true);
            return;
          }
          location.assign(boardUrl(job.result_plan, []));
        });
      })
      .catch(failed(what));
  }
  all(".event-form").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var summary = form.closest("details").querySelector("summary").textContent;
      report([eventOf(form)], summary);
    });
  });

  // A job's end: heard on the stream, or read once the stream says it changed.
  function untilDone(job) {
    return new Promise(function (resolve) {
      function check() {
        api("GET", "/v1/jobs/" + job).then(function (state) {
          if (["done", "failed", "cancelled"].indexOf(state.status) >= 0) {
            delete waitingFor[job];
            resolve(state);
          }
        }).catch(function () {});
      }
      waitingFor[job] = check;
      check();
      // without a stream (a proxy that buffers it) the job is read every two seconds
      var every = setInterval(function () { if (waitingFor[job]) check(); else clearInterval(every); }, 2000);
    });
  }

  // -- a draft: publish, undo, discard -------------------------------------------------------
  if (isDraft) {
    $("publish").addEventListener("click", function () {
      announce("Publishing plan " + planNo + "…");
      api("POST", "/v1/days/" + date + "/plans/" + planNo + "/publish", undefined, { "If-Match": etag })
        .then(function () { announce("Published plan " + planNo + ": carers are told."); location.assign(boardUrl()); })
        .catch(failed("Publishing"));
    });
    $("discard").addEventListener("click", function () {
      discard(planNo).then(function () { location.assign(boardUrl()); });
    });
    $("undo").addEventListener("click", function () {
      discard(planNo).then(function () {
        location.assign(back.length ? boardUrl(back[0], back.slice(1)) : boardUrl());
      });
    });
  }
  function discard(number) {
    return api("POST", "/v1/days/" + date + "/plans/" + number + "/discard").catch(failed("Discarding"));
  }

  // -- a carer chosen: their run on the roads, their run sheet ---------------------------------
  function showCarer(id, index) {
    $("carer-panel").hidden = false;
    $("carer-id").textContent = id;
    $("run-sheet").href = "/board/" + date + "/run-sheets/" + encodeURIComponent(id) + (isDraft ? "?plan=" + planNo : "");
    $("carer-facts").textContent = "Drawing the run…";
    var url = "/board/" + date + "/runs?carer=" + encodeURIComponent(id) + (isDraft ? "&plan=" + planNo : "");
    api("GET", url).then(function (answer) {
      var run = answer.runs[id];
      if (!run) { $("carer-facts").textContent = "No run today."; return; }
      drawRun(index, run);
      $("carer-facts").textContent = run.stops.length + " stops, numbered in order on the map" +
        (run.roads ? ", along the roads." : answer.roads_loading ? " (roads still loading: straight for now)." : ".");
    }).catch(failed("The run"));
  }
  function drawRun(index, run) {
    var svg = document.querySelector(".runs-map");
    if (!svg) return;
    var line = svg.querySelector('.run[data-carer="' + index + '"]');
    if (line) { line.setAttribute("points", run.points); line.classList.toggle("on-roads", run.roads); }
    var old = svg.querySelector("g.stops");
    if (old) old.parentNode.removeChild(old);
    var ns = "http://www.w3.org/2000/svg", group = document.createElementNS(ns, "g");
    group.setAttribute("class", "stops");
    run.stops.forEach(function (stop, i) {
      var c = document.createElementNS(ns, "circle");
      c.setAttribute("cx", stop[0]); c.setAttribute("cy", stop[1]); c.setAttribute("r", 8);
      var t = document.createElementNS(ns, "text");
      t.setAttribute("x", stop[0]); t.setAttribute("y", stop[1] + 4);
      t.textContent = String(i + 1);
      var title = document.createElementNS(ns, "title");
      title.textContent = (i + 1) + ": " + stop[2];
      c.appendChild(title);
      group.appendChild(c);
      group.appendChild(t);
    });
    svg.appendChild(group);
    body.classList.add("focus");
    all(".on").forEach(function (el) { el.classList.remove("on"); });
    all('[data-carer="' + index + '"]').forEach(function (el) { el.classList.add("on"); });
  }

  // -- rows drawn as they scroll near ------------------------------------------------------
  function fill(chunk) {
    var src = chunk.getAttribute("data-src");
    chunk.removeAttribute("data-src");
    fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error("rows: the service answered " + r.status); return r.text(); })
      .then(function (html) {
        chunk.innerHTML = html;
        chunk.classList.remove("later");
        chunk.style.height = "";
        chunk.removeAttribute("aria-busy");
        if (verdicts) all(".row[data-carer-id]", chunk).forEach(paint);
        if (selected) {
          all('.visit[data-visit="' + cssEscape(selected.visit) + '"]', chunk).forEach(function (el) { el.classList.add("chosen"); });
        }
      })
      .catch(function (error) { chunk.setAttribute("data-src", src); announce(error.message, true); });
  }
  var later = all(".tl-chunk[data-src]");
  if (later.length && window.IntersectionObserver) {
    var box = $("timeline");
    var watch = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting && entry.target.hasAttribute("data-src")) {
          watch.unobserve(entry.target);
          fill(entry.target);
        }
      });
    }, { root: box && getComputedStyle(box).overflowY !== "visible" ? box : null, rootMargin: "800px 0px" });
    later.forEach(function (chunk) { watch.observe(chunk); });
  } else {
    later.forEach(fill);
  }

  // -- live: the stream, and the clock ---------------------------------------------------------
  var STATUS = { check_in: ["st-checked_in", "▶", "checked in"], check_out: ["st-done", "✓", "done"],
    visit_not_started: ["st-missed", "✕", "missed"] };
  function mark(visit, carer, type) {
    var look = STATUS[type];
    if (!look) return;
    all('.row[data-carer-id="' + cssEscape(carer) + '"] .visit[data-visit="' + cssEscape(visit) + '"]').forEach(function (el) {
      el.className = el.className.replace(/\bst-[a-z_]+/g, "").trim() + " " + look[0];
      var m = el.querySelector(".mark");
      if (m) m.textContent = look[1];
      var label = el.getAttribute("aria-label") || "";
      el.setAttribute("aria-label", label.replace(/status: [a-z ]+/, "status: " + look[2]));
      var tip = el.getAttribute("data-tip") || "";
      el.setAttribute("data-tip", tip.replace(/status: [a-z ]+/, "status: " + look[2]));
    });
  }
  var live = $("live");
  if (window.EventSource) {
    var stream = new EventSource("/v1/stream?date=" + date);
    stream.onopen = function () { live.textContent = "live"; live.className = "live on"; };
    stream.onerror = function () { live.textContent = "live updates: reconnecting"; live.className = "live off"; };
    stream.addEventListener("event", function (ev) {
      var data = JSON.parse(ev.data);
      if (data.visit && data.carer && data.status !== "rejected") mark(data.visit, data.carer, data.type);
    });
    stream.addEventListener("job", function (ev) {
      var data = JSON.parse(ev.data);
      if (waitingFor[data.id]) waitingFor[data.id]();
    });
    stream.addEventListener("plan", function (ev) {
      var data = JSON.parse(ev.data);
      if (data.status === "published" && !isDraft && data.number !== planNo) {
        announce("Plan " + data.number + " was published: showing it.");
        location.assign(boardUrl());
      }
    });
  }
  var nowLine = $("now-line"), nowAt = Number(body.getAttribute("data-now")), loaded = Date.now();
  if (nowLine && body.getAttribute("data-now")) {
    var t0 = Number(nowLine.getAttribute("data-t0")), t1 = Number(nowLine.getAttribute("data-t1"));
    setInterval(function () {
      var now = nowAt + (Date.now() - loaded) / 60000;
      nowLine.style.setProperty("--f", Math.min(Math.max((now - t0) / (t1 - t0), 0), 1));
      nowLine.querySelector("span").textContent = "now " + hhmm(now);
    }, 30000);
  }

  // Sign-out is a POST with the CSRF token, like every change.
  all("form.sign-out").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/sign-out").then(function () { location.assign("/sign-in"); }).catch(failed("Signing out"));
    });
  });

  body.setAttribute("data-board-ready", "1");
})();
