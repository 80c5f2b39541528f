// On every console page: polls /console/api/team (which also marks this operator online),
// shows how many critical conversations nobody holds in the title ("(2) Queue · Triage line"),
// raises a desktop notification for each new one once the operator has turned them on with the
// button (the browser asks only then, never on load), and keeps the team panel live.
// Text goes in with textContent only.
(function () {
  "use strict";
  var script = document.getElementById("team-js");
  if (!script) return;
  var api = script.dataset.api;
  var pollMs = Math.max(1, Number(script.dataset.poll) || 3) * 1000;
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  var KNOWN_KEY = "console.criticalSeen"; // refs already announced, shared by this browser's tabs
  var button = document.getElementById("notify");

  function supported() { return "Notification" in window; }

  function showButton() {
    if (!button) return;
    if (!supported()) {
      button.hidden = false;
      button.disabled = true;
      button.textContent = "Desktop alerts not available in this browser";
      return;
    }
    button.hidden = false;
    var state = Notification.permission;
    button.disabled = state !== "default";
    button.textContent = state === "granted" ? "Desktop alerts on"
      : state === "denied" ? "Desktop alerts blocked (browser settings)"
        : "Turn on desktop alerts";
  }

  if (button) {
    button.addEventListener("click", function () {
      if (!supported() || Notification.permission !== "default") return;
      var asked = Notification.requestPermission(showButton);
      if (asked && asked.then) asked.then(showButton);
    });
    showButton();
  }

  function known() {
    try {
      var list = JSON.parse(localStorage.getItem(KNOWN_KEY));
      return Array.isArray(list) ? list : null;
    } catch (e) { return null; }
  }

  function announce(rows) {
    var before = known();
    var refs = rows.map(function (r) { return r.ref; });
    try { localStorage.setItem(KNOWN_KEY, JSON.stringify(refs)); } catch (e) { /* private mode */ }
    if (before === null) return; // the first look in this browser: nothing is new yet
    if (!supported() || Notification.permission !== "granted") return;
    rows.forEach(function (r) {
      if (before.indexOf(r.ref) !== -1) return;
      try {
        // Never the message itself: a notification can show on a locked or shared screen.
        var n = new Notification("New critical conversation", {
          body: r.channel + " " + r.number + " #" + r.tag + ": nobody holds it yet",
          tag: "critical-" + r.ref,
          requireInteraction: true
        });
        n.onclick = function () { window.focus(); window.location.href = r.url; };
      } catch (e) { /* some browsers allow notifications only from a service worker */ }
    });
  }

  function showCount(count) {
    document.title = (count > 0 ? "(" + count + ") " : "") + baseTitle;
    document.body.dataset.critical = String(count);
  }

  function member(m) {
    var li = document.createElement("li");
    li.className = "member" + (m.online ? " online" : "");
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = m.name + (m.you ? " (you)" : "");
    var status = document.createElement("span");
    status.className = "member-status";
    status.textContent = m.status;
    var holds = document.createElement("strong");
    holds.textContent = String(m.holds);
    li.append(name, " ", status, " · holds ", holds);
    return li;
  }

  function showTeam(team) {
    var list = document.getElementById("team-list");
    if (!list) return;
    var fragment = document.createDocumentFragment();
    team.forEach(function (m) { fragment.appendChild(member(m)); });
    list.replaceChildren(fragment);
    var online = document.getElementById("team-online");
    if (online) {
      online.textContent = "(" + team.filter(function (m) { return m.online; }).length +
        " online)";
    }
  }

  function poll() {
    fetch(api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) {
        if (!data) return;
        showCount(data.critical.count);
        announce(data.critical.rows);
        showTeam(data.team);
      })
      .catch(function () { /* try again next time */ })
      .finally(function () { setTimeout(poll, pollMs); });
  }

  poll();
})();
