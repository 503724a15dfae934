/*
 * dossier: progressive enhancement only. Every page is complete without this script.
 *
 * - Search: shows the search box and filters window.DOSSIER_INDEX (search-index.js).
 * - Passage previews: "See the passage" links show the quoted passage on hover and focus.
 * - Source pages: when the address targets a quote anchor, every mark of that passage is
 *   highlighted, not only the first.
 *
 * Plain script, no modules and no fetch, so it works from file:// as well as from a server.
 */
(function () {
  "use strict";

  var doc = document;
  var MAX_RESULTS = 12;

  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }

  /* The site root, relative to this page: the brand link points at index.html there. */
  function siteRoot() {
    var a = doc.querySelector(".brand a");
    var href = (a && a.getAttribute("href")) || "";
    return href.replace(/index\.html$/, "");
  }

  /* Case- and accent-insensitive form of a text; curly quotes and dashes made plain. */
  function fold(text) {
    var s = String(text == null ? "" : text);
    if (s.normalize) {
      s = s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
    }
    return s
      .toLowerCase()
      .replace(/[\u2018\u2019\u201b\u2032]/g, "'")
      .replace(/[\u201c\u201d\u201f\u2033]/g, '"')
      .replace(/[\u2010-\u2015\u2212]/g, "-")
      .replace(/\s+/g, " ");
  }

  function statusLabel(status) {
    var s = String(status || "");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  /* ---- Search ---------------------------------------------------------------------------- */
  function initSearch() {
    var box = doc.getElementById("_search");
    var input = doc.getElementById("_search-input");
    var list = doc.getElementById("_search-results");
    var status = doc.getElementById("_search-status");
    var index = window.DOSSIER_INDEX;
    if (!box || !input || !list || !status || !Array.isArray(index)) {
      return;
    }
    var root = siteRoot();
    var entries = index.map(function (e) {
      return {
        entry: e,
        claim: fold(e.claim),
        text: fold([e.claim, e.text, String(e.id || "").replace(/-/g, " ")].join(" "))
      };
    });
    var timer = null;

    function render() {
      var raw = input.value.trim();
      var words = fold(raw).split(" ").filter(Boolean);
      list.textContent = "";
      if (!words.length) {
        status.textContent = "";
        return;
      }
      var hits = [];
      entries.forEach(function (item, order) {
        var score = 0;
        for (var i = 0; i < words.length; i++) {
          if (item.text.indexOf(words[i]) < 0) {
            return;
          }
          if (item.claim.indexOf(words[i]) >= 0) {
            score += 1;
          }
        }
        hits.push({ item: item, score: score, order: order });
      });
      hits.sort(function (a, b) {
        return b.score - a.score || a.order - b.order;
      });
      if (!hits.length) {
        status.textContent = "No fact matches \u201c" + raw + "\u201d.";
        return;
      }
      var shown = hits.slice(0, MAX_RESULTS);
      status.textContent =
        (hits.length === 1 ? "1 fact matches" : hits.length + " facts match") +
        (shown.length < hits.length ? "; the first " + shown.length + " are listed." : ".");
      shown.forEach(function (hit) {
        var e = hit.item.entry;
        var li = doc.createElement("li");
        var a = doc.createElement("a");
        a.href = root + e.href;
        a.textContent = e.claim;
        var badge = doc.createElement("span");
        badge.className = "status status-" + e.status;
        badge.textContent = statusLabel(e.status);
        li.appendChild(a);
        li.appendChild(doc.createTextNode(" "));
        li.appendChild(badge);
        list.appendChild(li);
      });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(render, 120);
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && input.value) {
        input.value = "";
        render();
      } else if (ev.key === "ArrowDown") {
        var first = list.querySelector("a");
        if (first) {
          ev.preventDefault();
          first.focus();
        }
      }
    });
    list.addEventListener("keydown", function (ev) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a"));
      var at = links.indexOf(doc.activeElement);
      if (at < 0) {
        return;
      }
      if (ev.key === "ArrowDown" && at < links.length - 1) {
        ev.preventDefault();
        links[at + 1].focus();
      } else if (ev.key === "ArrowUp") {
        ev.preventDefault();
        (at > 0 ? links[at - 1] : input).focus();
      } else if (ev.key === "Escape") {
        input.focus();
      }
    });
    box.hidden = false;
    if (input.value) {
      render(); /* a value the browser restored on going back */
    }
  }

  /* ---- Passage previews on fact pages ---------------------------------------------------- */
  function initPassageTips() {
    var open = null;
    var hideTimer = null;

    function show(link) {
      window.clearTimeout(hideTimer);
      if (open && open.link !== link) {
        open.tip.hidden = true;
      }
      open = { link: link, tip: link.passageTip };
      open.tip.hidden = false;
    }

    function hideSoon() {
      window.clearTimeout(hideTimer);
      hideTimer = window.setTimeout(hideNow, 150);
    }

    function hideNow() {
      window.clearTimeout(hideTimer);
      if (open) {
        open.tip.hidden = true;
        open = null;
      }
    }

    each(doc.querySelectorAll("a.to-passage[data-passage]"), function (link, i) {
      var tip = doc.createElement("span");
      tip.className = "passage-tip";
      tip.id = "passage-tip-" + (i + 1);
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      var head = doc.createElement("b");
      head.textContent = "The source there:";
      tip.appendChild(head);
      tip.appendChild(doc.createTextNode("\u201c" + link.getAttribute("data-passage") + "\u201d"));
      link.parentNode.insertBefore(tip, link.nextSibling);
      link.passageTip = tip;
      var described = link.getAttribute("aria-describedby");
      link.setAttribute("aria-describedby", (described ? described + " " : "") + tip.id);

      link.addEventListener("mouseenter", function () { show(link); });
      link.addEventListener("focus", function () { show(link); });
      link.addEventListener("mouseleave", hideSoon);
      link.addEventListener("blur", hideNow);
      /* The preview stays open while the pointer is over it (WCAG 1.4.13). */
      tip.addEventListener("mouseenter", function () { window.clearTimeout(hideTimer); });
      tip.addEventListener("mouseleave", hideSoon);
    });

    doc.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" || ev.key === "Esc") {
        hideNow();
      }
    });
  }

  /* ---- Source pages: highlight every piece of the targeted passage ----------------------- */
  function markTarget() {
    each(doc.querySelectorAll("mark.is-target"), function (m) {
      m.classList.remove("is-target");
    });
    var id = "";
    try {
      id = decodeURIComponent(window.location.hash.slice(1));
    } catch (e) {
      return;
    }
    var anchor = id && doc.getElementById(id);
    if (!anchor || !anchor.classList.contains("anchor")) {
      return;
    }
    each(doc.querySelectorAll("mark[data-q]"), function (m) {
      if ((" " + m.getAttribute("data-q") + " ").indexOf(" " + id + " ") >= 0) {
        m.classList.add("is-target");
      }
    });
  }

  function init() {
    initSearch();
    initPassageTips();
    if (doc.querySelector(".anchor")) {
      markTarget();
      window.addEventListener("hashchange", markTarget);
    }
  }

  if (doc.readyState === "loading") {
    doc.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
