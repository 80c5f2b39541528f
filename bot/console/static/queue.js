// Live queue: polls the JSON endpoint for this page (cheap when nothing changed), ticks waiting
// times, shows the true counts, flags overdue critical conversations (on every page: the server
// sends when each unclaimed critical one started waiting) and beeps for them unless muted.
// Text goes in via textContent only, so nothing a texter writes can run here.
(function () {
  "use strict";
  var table = document.getElementById("queue");
  if (!table) return;
  var tbody = document.getElementById("rows");
  var empty = document.getElementById("empty");
  var count = document.getElementById("count");
  var counts = document.getElementById("counts");
  var pager = document.getElementById("pager");
  var pageOf = document.getElementById("page-of");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var banner = document.getElementById("overdue");
  var bannerText = document.getElementById("overdue-text");
  var live = document.getElementById("live");
  var muteButton = document.getElementById("mute");
  var page = Number(table.dataset.page) || 1;
  var api = table.dataset.api + "?page=" + page +
    (table.dataset.filters ? "&" + table.dataset.filters : ""); // ?priority=, ?mine=1, ...
  var version = table.dataset.version;
  var pollMs = Math.max(1, Number(table.dataset.poll)) * 1000;
  var overdueAfter = Number(table.dataset.overdue);
  var offset = Number(table.dataset.now) - Date.now() / 1000; // server clock minus ours
  var rows = null; // null until the first poll: the server rendered the page
  // When each unclaimed critical conversation started waiting, whichever page lists it.
  var criticalSince = (table.dataset.critical || "").split(",").filter(Boolean).map(Number);
  var PRIORITIES = ["critical", "high", "normal", "low"];
  var audio = null;
  var lastBeep = 0;
  var MUTE_KEY = "console.muted";

  function now() { return Date.now() / 1000 + offset; }

  function ago(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + "s";
    var m = Math.floor(seconds / 60), s = seconds % 60;
    if (seconds < 3600) return m + "m " + (s < 10 ? "0" : "") + s + "s";
    var h = Math.floor(seconds / 3600), mm = Math.floor(seconds / 60) % 60;
    return h + "h " + (mm < 10 ? "0" : "") + mm + "m";
  }

  function isOverdue(r) {
    return r.priority === "critical" && !r.claimed_by && !r.blocked &&
      now() - r.waiting_since > overdueAfter;
  }

  function badge(text, cls) {
    var span = document.createElement("span");
    span.className = "badge " + cls;
    span.textContent = text;
    return span;
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    if (text !== undefined) td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function renderRow(r) {
    var tr = document.createElement("tr");
    tr.className = "row prio-" + r.priority + (r.overdue ? " overdue" : "") +
      (r.blocked ? " blocked" : "");
    var p = cell(tr);
    p.appendChild(badge(r.priority, "badge-" + r.priority));
    if (r.overdue) { p.appendChild(document.createTextNode(" ")); p.appendChild(badge("overdue", "badge-overdue")); }
    if (r.alert) { p.appendChild(document.createTextNode(" ")); p.appendChild(badge("critical message: answer now", "badge-overdue")); }
    if (r.blocked) { p.appendChild(document.createTextNode(" ")); p.appendChild(badge("blocked", "badge-blocked")); }
    if (r.reason) { var why = document.createElement("div"); why.className = "reason"; why.textContent = r.reason; p.appendChild(why); }
    cell(tr, r.intent);
    cell(tr, r.language);
    var ch = cell(tr);
    var chan = document.createElement("span");
    chan.className = "chan chan-" + r.channel;
    chan.textContent = r.channel;
    ch.appendChild(chan);
    var num = cell(tr);
    var a = document.createElement("a");
    a.className = "open";
    a.href = r.url;
    a.textContent = r.number + " ";
    var refTag = document.createElement("span");  // the conversation's tag: masks never look alike
    refTag.className = "ref-tag";
    refTag.textContent = "#" + r.tag;
    a.appendChild(refTag);
    num.appendChild(a);
    (r.tags || []).forEach(function (t) {  // operators' tags (bot/console/notes.py)
      num.appendChild(document.createTextNode(" "));
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = t;
      num.appendChild(tag);
    });
    cell(tr, r.last_text, "last");
    var wait = cell(tr, ago(now() - r.waiting_since), "wait");
    wait.dataset.since = r.waiting_since;
    var held = cell(tr);
    if (r.claimed_by) held.textContent = r.mine ? "you" : r.claimed_by;
    else { var m = document.createElement("span"); m.className = "muted"; m.textContent = "nobody"; held.appendChild(m); }
    return tr;
  }

  function overdueCount() {
    return criticalSince.filter(function (t) { return now() - t > overdueAfter; }).length;
  }

  function renderCounts(data) {
    count.textContent = "(" + data.total + " open)";
    var fragment = document.createDocumentFragment();
    PRIORITIES.forEach(function (name) {
      fragment.appendChild(badge(data.counts[name] + " " + name, "badge-" + name));
      fragment.appendChild(document.createTextNode(" "));
    });
    counts.replaceChildren(fragment);
    pager.hidden = data.pages < 2 && page === 1;
    pageOf.textContent = "Page " + page + " of " + data.pages;
    next.hidden = page >= data.pages;
    empty.textContent = data.total ? "Nothing on this page: the queue is shorter now."
      : "No open conversations.";
  }

  function render() {
    rows.forEach(function (r) { r.overdue = isOverdue(r); });
    var ordered = rows.filter(function (r) { return r.overdue; })
      .concat(rows.filter(function (r) { return !r.overdue; }));
    var fragment = document.createDocumentFragment();
    ordered.forEach(function (r) { fragment.appendChild(renderRow(r)); });
    tbody.replaceChildren(fragment);
    empty.hidden = rows.length > 0;
    showOverdue(overdueCount());
  }

  function showOverdue(n) {
    banner.hidden = n === 0;
    if (n > 0) {
      var label = overdueAfter % 60 === 0 ? overdueAfter / 60 + " min" : overdueAfter + " s";
      bannerText.textContent = n + " critical conversation(s) unclaimed for over " + label;
      beep();
    }
  }

  function muted() { return localStorage.getItem(MUTE_KEY) === "1"; }

  function showMute() {
    muteButton.textContent = muted() ? "Sound off (unmute)" : "Sound on (mute)";
    muteButton.setAttribute("aria-pressed", muted() ? "true" : "false");
  }

  function beep() {
    // At most every 20 s while anything is overdue; browsers allow sound only after a click.
    if (muted() || Date.now() - lastBeep < 20000) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      var t = audio.currentTime;
      [0, 0.25].forEach(function (delay) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, t + delay);
        gain.gain.exponentialRampToValueAtTime(0.3, t + delay + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + delay + 0.18);
        osc.connect(gain).connect(audio.destination);
        osc.start(t + delay);
        osc.stop(t + delay + 0.2);
      });
      lastBeep = Date.now();
      document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
    } catch (e) { /* no audio: the banner still shows */ }
  }

  function tick() {
    showOverdue(overdueCount());
    if (rows === null) {
      tbody.querySelectorAll("td.wait").forEach(function (td) {
        td.textContent = ago(now() - Number(td.dataset.since));
      });
      return;
    }
    var before = rows.filter(function (r) { return r.overdue; }).length;
    var after = rows.filter(isOverdue).length;
    if (before !== after) render();
    else tbody.querySelectorAll("td.wait").forEach(function (td) {
      td.textContent = ago(now() - Number(td.dataset.since));
    });
  }

  function poll() {
    fetch(api + "&v=" + encodeURIComponent(version), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (res) {
      if (res.status === 401) { window.location.reload(); return null; }
      if (!res.ok) throw new Error(res.status);
      return res.json();
    }).then(function (data) {
      if (!data) return;
      live.textContent = "live";
      offset = data.now - Date.now() / 1000;
      version = String(data.version);
      if (data.changed) {
        rows = data.rows;
        criticalSince = data.critical_waiting_since;
        renderCounts(data);
        render();
      }
    }).catch(function () {
      live.textContent = "offline: retrying";
    }).finally(function () {
      setTimeout(poll, pollMs);
    });
  }

  muteButton.addEventListener("click", function () {
    localStorage.setItem(MUTE_KEY, muted() ? "0" : "1");
    showMute();
  });
  document.addEventListener("click", function () {
    if (audio && audio.state === "suspended") audio.resume();
  });
  showMute();
  if (!banner.hidden) beep();
  setInterval(tick, 1000);
  setTimeout(poll, pollMs);
})();
