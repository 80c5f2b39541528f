// Live transcript: polls for new messages and shows them (as text, never as HTML); says when
// the conversation was claimed, handed back or closed elsewhere. Times shown in local time.
(function () {
  "use strict";
  var list = document.getElementById("transcript");
  if (!list) return;
  var notice = document.getElementById("changed");
  var version = list.dataset.version;
  var pollMs = Math.max(1, Number(list.dataset.poll)) * 1000;
  var status = list.dataset.status;
  var holder = list.dataset.holder;

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      t.textContent = new Date(t.getAttribute("datetime")).toLocaleString();
    });
  }

  function span(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function renderEntry(e) {
    var li = document.createElement("li");
    li.className = "entry entry-" + e.direction + " kind-" + e.kind;
    var meta = document.createElement("div");
    meta.className = "meta";
    meta.appendChild(span("sender", e.sender));
    var time = document.createElement("time");
    time.setAttribute("datetime", e.iso);
    meta.appendChild(time);
    if (e.intent) meta.appendChild(span("intent", e.intent));
    if (e.delivery) meta.appendChild(span("delivery", "SMS " + e.delivery));
    li.appendChild(meta);
    var text = document.createElement("div");
    text.className = "text";
    (e.parts || [["text", e.text]]).forEach(function (part) {  // phone numbers: tel: links
      if (part[0] !== "tel") { text.appendChild(document.createTextNode(part[1])); return; }
      var tel = document.createElement("a");
      tel.className = "tel";
      tel.href = "tel:" + part[2];
      tel.textContent = part[1];
      text.appendChild(tel);
    });
    li.appendChild(text);
    if (e.why) { var w = span("why", e.why); w.style.display = "block"; li.appendChild(w); }
    return li;
  }

  function poll() {
    fetch(list.dataset.api + "?v=" + encodeURIComponent(version), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (res) {
      if (res.status === 401 || res.status === 404) { window.location.reload(); return null; }
      if (!res.ok) throw new Error(res.status);
      return res.json();
    }).then(function (data) {
      if (!data) return;
      version = String(data.version);
      if (!data.changed) return;
      var fragment = document.createDocumentFragment();
      data.entries.forEach(function (e) { fragment.appendChild(renderEntry(e)); });
      list.replaceChildren(fragment);
      localTimes(list);
      if (data.status !== status || (data.claimed_by || "") !== holder) {
        var left = data.status === "closed" && data.ended_by === "person";  // the quick exit
        var said = left ? "The person left (quick exit). The conversation is closed; it " +
          "reopens if they write again." : "This conversation changed (claimed, handed back " +
          "or closed elsewhere).";
        var noticeText = document.getElementById("changed-text");
        if (noticeText) noticeText.textContent = said;
        var panel = document.getElementById("holder-text");
        if (left && panel) panel.textContent = said;
        notice.hidden = false;
      }
    }).catch(function () { /* try again next time */ }).finally(function () {
      setTimeout(poll, pollMs);
    });
  }

  localTimes(document);
  setTimeout(poll, pollMs);
})();
