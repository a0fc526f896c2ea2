/* The coordinator's report, in the browser. The script only adds to a page that is
   complete without it: instant tooltips from the SVG titles, picking out a carer's run
   (hover or focus picks it out for a moment, a click or Enter/Space on the legend pins it,
   Escape lets go; the legend's buttons say whether they are pinned with aria-pressed),
   and linking the two halves of each double-up. When wired it marks the body with
   data-ready="1" and data-linked-pairs="N", which the tests check. */
(function () {
  "use strict";
  var body = document.body, tip = document.getElementById("tip"), links = document.getElementById("links");
  var pinned = null, groups = {}, linked = 0;
  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
  function pickOf(el) { return el && el.closest ? el.closest("[data-pick]") : null; }
  function isPair(el) { return el && el.hasAttribute && el.hasAttribute("data-pair"); }

  function focusCarer(k) {
    all(".on").forEach(function (el) { el.classList.remove("on"); });
    body.classList.toggle("focus", k !== null);
    if (k !== null) all('[data-carer="' + k + '"]').forEach(function (el) { el.classList.add("on"); });
  }
  function pin(k) {
    pinned = k;
    all(".legend button[data-pick]").forEach(function (el) {
      el.setAttribute("aria-pressed", String(el.getAttribute("data-pick") === pinned));
    });
    focusCarer(pinned);
  }
  pin(null);

  all("[data-pair]").forEach(function (el) {
    var key = el.getAttribute("data-pair");
    (groups[key] = groups[key] || []).push(el);
  });
  Object.keys(groups).forEach(function (key) { if (groups[key].length === 2) linked += 1; });

  function linkPair(el, on) {
    // looked up now, not when the page opened: the board adds rows as they scroll into view
    var parts = all('[data-pair="' + el.getAttribute("data-pair") + '"]');
    parts.forEach(function (p) { p.classList.toggle("link", on); });
    while (links && links.firstChild) links.removeChild(links.firstChild);
    if (!links || !on || parts.length !== 2) return;
    var box = links.getBoundingClientRect(), a = parts[0].getBoundingClientRect(), b = parts[1].getBoundingClientRect();
    var upper = a.top <= b.top ? a : b, lower = upper === a ? b : a;
    var line = document.createElementNS("http://www.w3.org/2000/svg", "line");
    line.setAttribute("x1", upper.left + upper.width / 2 - box.left);
    line.setAttribute("y1", upper.bottom - box.top);
    line.setAttribute("x2", lower.left + lower.width / 2 - box.left);
    line.setAttribute("y2", lower.top - box.top);
    links.appendChild(line);
  }

  function tipText(el) {
    for (; el && el !== body; el = el.parentNode) {
      if (el.hasAttribute && el.hasAttribute("data-tip")) return el.getAttribute("data-tip");
      var title = el.querySelector ? el.querySelector(":scope > title") : null;
      if (title) {  // moved, so the browser's slow native tooltip does not show as well
        el.setAttribute("data-tip", title.textContent);
        el.removeChild(title);
        return el.getAttribute("data-tip");
      }
      if (el.tagName && el.tagName.toLowerCase() === "svg") return null;
    }
    return null;
  }
  function placeTip(ev) {
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth - 4) x = ev.clientX - tip.offsetWidth - 10;
    if (y + tip.offsetHeight > window.innerHeight - 4) y = ev.clientY - tip.offsetHeight - 10;
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }

  document.addEventListener("mouseover", function (ev) {
    var pick = pickOf(ev.target), text = tipText(ev.target);
    if (pick) focusCarer(pick.getAttribute("data-pick"));
    if (isPair(ev.target)) linkPair(ev.target, true);
    if (text) { tip.textContent = text; tip.hidden = false; placeTip(ev); }
  });
  document.addEventListener("mousemove", function (ev) { if (!tip.hidden) placeTip(ev); });
  document.addEventListener("mouseout", function (ev) {
    var pick = pickOf(ev.target);
    tip.hidden = true;
    if (pick && !(ev.relatedTarget && pick.contains(ev.relatedTarget))) focusCarer(pinned);
    if (isPair(ev.target)) linkPair(ev.target, false);
  });
  document.addEventListener("click", function (ev) {
    var pick = pickOf(ev.target);
    if (!pick) return;
    pin(pinned === pick.getAttribute("data-pick") ? null : pick.getAttribute("data-pick"));
  });
  document.addEventListener("focusin", function (ev) {
    var pick = pickOf(ev.target);
    if (pick) focusCarer(pick.getAttribute("data-pick"));
  });
  document.addEventListener("focusout", function (ev) {
    if (pickOf(ev.target) && !pickOf(ev.relatedTarget)) focusCarer(pinned);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && pinned !== null) pin(null);
  });

  body.setAttribute("data-linked-pairs", String(linked));
  body.setAttribute("data-ready", "1");
})();
