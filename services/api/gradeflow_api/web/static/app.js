// gradeflow pages: local times, drag-and-drop upload with checks before sending, small conveniences.
// No inline scripts anywhere (the pages' Content-Security-Policy forbids them); htmx does the polling.
(function () {
  "use strict";
  var formats = {
    datetime: { dateStyle: "medium", timeStyle: "short" },
    date: { dateStyle: "medium" },
    time: { timeStyle: "medium" }
  };

  function localTimes(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var options = formats[el.dataset.style] || formats.datetime;
      el.textContent = new Intl.DateTimeFormat(undefined, options).format(when);
      el.title = when.toISOString().replace(".000Z", "Z") + " (UTC)";
      el.setAttribute("data-local", "");
    });
  }

  function humanSize(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.ceil(bytes / 1024) + " KB";
  }

  function uploadForm(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-drop]");
    var chosen = form.querySelector("[data-chosen]");
    var error = form.querySelector("[data-upload-error]");
    var maxBytes = parseInt(form.dataset.maxBytes, 10);
    var accepted = (form.dataset.accept || "").split(",").filter(Boolean);

    function problem(file) {
      if (!file) return "Choose a file first.";
      var dot = file.name.lastIndexOf(".");
      var ext = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
      if (accepted.length && accepted.indexOf(ext) < 0) return "“" + file.name + "” is not one of: " + accepted.join(", ") + ".";
      if (file.size === 0) return "The file is empty.";
      if (file.size > maxBytes) return "The file is " + humanSize(file.size) + "; the limit is " + humanSize(maxBytes) + ". Clear large outputs and try again.";
      return "";
    }
    function show(file) {
      var message = file ? problem(file) : "";
      chosen.textContent = file ? file.name + " (" + humanSize(file.size) + ")" : "";
      error.textContent = message;
      error.hidden = !message;
      return !message;
    }
    input.addEventListener("change", function () { show(input.files[0]); });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      input.files = e.dataTransfer.files;
      show(input.files[0]);
    });
    form.addEventListener("submit", function (e) {
      if (!show(input.files[0])) { e.preventDefault(); error.focus && error.focus(); return; }
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      button.textContent = "Sending…";
    });
  }

  // <input type=datetime-local> has no zone: show stored UTC moments in local time, and send what the
  // person typed also as UTC (NAME_utc) so the server never guesses the zone.
  function pad(n) { return String(n).padStart(2, "0"); }
  function localValue(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" +
      pad(date.getHours()) + ":" + pad(date.getMinutes());
  }
  function localTimeForm(form) {
    var inputs = form.querySelectorAll("input[type=datetime-local]");
    inputs.forEach(function (input) {
      if (input.dataset.utc) {
        var when = new Date(input.dataset.utc);
        if (!isNaN(when)) input.value = localValue(when);
      }
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = input.name + "_utc";
      form.appendChild(hidden);
    });
    form.addEventListener("submit", function () {
      inputs.forEach(function (input) {
        var when = input.value ? new Date(input.value) : null;
        form.querySelector("input[name='" + input.name + "_utc']").value = when && !isNaN(when) ? when.toISOString() : "";
      });
    });
    var note = form.querySelector("[data-tz-note]");
    if (note) note.textContent = "Times are in your time zone (" + Intl.DateTimeFormat().resolvedOptions().timeZone + ").";
  }

  // The status fragment's clocks ("waiting for", "running for") count on between polls. The server sends
  // when each started (data-since) and leaves the clocks out of its ETag, so a fragment the browser reuses
  // after a 304 still shows the right time; `skew` corrects a client clock that is off (the poll's Date).
  var skew = 0;
  function durationText(seconds) {  // as the server's `duration` filter (web/render.py)
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + String(seconds % 60).padStart(2, "0") + " s";
    return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " min";
  }
  function tickClocks() {
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.since);
      if (!isNaN(since)) el.textContent = durationText((Date.now() + skew - since) / 1000);
    });
  }
  function readSkew(e) {
    var date = e.detail && e.detail.xhr ? Date.parse(e.detail.xhr.getResponseHeader("Date") || "") : NaN;
    if (!isNaN(date)) skew = Math.abs(date - Date.now()) > 1500 ? date - Date.now() : 0;
  }

  // An upload that would replace the counted score asks first, in the page (never window.confirm): the form
  // carries data-confirm-replace and a hidden panel. Registered before uploadForm, so a held submit never
  // reaches its "Sending…" step.
  function confirmReplace(form) {
    var panel = form.querySelector("[data-confirm-panel]");
    var input = form.querySelector("input[type=file]");
    if (!panel) return;
    var confirmed = false;
    function cancel() { panel.hidden = true; if (input) input.focus(); }
    var error = form.querySelector("[data-upload-error]");
    form.addEventListener("submit", function (e) {
      if (confirmed || (error && !error.hidden)) return;  // a file the upload's own check refuses: that first
      e.preventDefault();
      e.stopImmediatePropagation();
      panel.hidden = false;
      panel.querySelector("[data-confirm-yes]").focus();
    });
    panel.querySelector("[data-confirm-yes]").addEventListener("click", function () {
      confirmed = true;
      panel.hidden = true;
      form.requestSubmit();
    });
    panel.querySelector("[data-confirm-no]").addEventListener("click", cancel);
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") cancel(); });
    if (input) input.addEventListener("change", function () { confirmed = false; });
  }

  // The submission page's live status: once grading ends the title says the verdict; a change of status is
  // spoken as one short sentence (#status-said, the page's only live region), never the swapped block; the
  // "updates by itself" note shows only where this script runs to keep that promise.
  var spokenStatus = null, plainTitle = null;
  function liveStatus() {
    var live = document.getElementById("status");
    if (!live || !live.dataset.status) return;
    live.querySelectorAll("[data-live-note]").forEach(function (el) { el.hidden = false; });
    if (plainTitle === null) plainTitle = document.title.replace(/^(Graded \S* |Not graded )· /, "");
    var status = live.dataset.status;
    if (status === "graded") document.title = "Graded " + (live.dataset.scoreText || "") + " · " + plainTitle;
    else if (status === "failed") document.title = "Not graded · " + plainTitle;
    var said = document.getElementById("status-said");
    if (said && spokenStatus !== null && spokenStatus !== status) said.textContent = live.dataset.said || status;
    var final = status === "graded" || status === "failed";
    if (final && (spokenStatus === "queued" || spokenStatus === "running") && document.getElementById("counts") &&
        window.htmx) {  // whether it counts changed with the verdict: fetch that section again, once
      window.htmx.ajax("GET", location.pathname, { target: "#counts", select: "#counts", swap: "outerHTML" });
    }
    spokenStatus = status;
  }

  function ready() {
    document.querySelectorAll("form[data-local-times]").forEach(localTimeForm);
    localTimes(document);
    document.querySelectorAll("form[data-confirm-replace]").forEach(confirmReplace);
    document.querySelectorAll("form[data-max-bytes]").forEach(uploadForm);
    liveStatus();
    document.body.addEventListener("htmx:afterSettle", liveStatus);
    document.querySelectorAll("[data-back]").forEach(function (b) {
      if (history.length > 1) { b.hidden = false; b.addEventListener("click", function () { history.back(); }); }
    });
    document.body.addEventListener("htmx:afterSettle", function () { localTimes(document); });
    document.body.addEventListener("htmx:afterRequest", readSkew);
    document.body.addEventListener("htmx:afterSettle", tickClocks);
    setInterval(tickClocks, 1000);
    function pollTrouble(e) {
      var live = document.getElementById("status");
      if (live && !live.querySelector(".poll-error")) {
        var busy = e.detail && e.detail.xhr && e.detail.xhr.status === 503;  // shed under load: Retry-After
        var p = document.createElement("p");
        p.className = "alert poll-error";
        p.textContent = busy ? "The server is busy; still trying." : "Could not reach the server; still trying.";
        live.appendChild(p);
      }
    }
    document.body.addEventListener("htmx:responseError", pollTrouble);
    document.body.addEventListener("htmx:sendError", pollTrouble);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
