// Keyboard shortcuts, never while typing in a field or with Ctrl/Alt/Cmd: j/k move through the
// queue, Enter opens, t takes over, r goes to the reply box, q back to the queue, ? the list.
(function () {
  "use strict";
  var help = document.getElementById("shortcuts");
  var opener = document.getElementById("shortcuts-open");
  var SELECTED = "console.selected"; // the selected conversation survives the queue's redraws
  var selected = sessionStorage.getItem(SELECTED) || "";

  function showHelp() {
    if (!help || help.open) return;
    if (help.showModal) help.showModal(); else help.setAttribute("open", "");
  }
  if (opener) opener.addEventListener("click", showHelp);

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function links() {
    return Array.prototype.slice.call(document.querySelectorAll("#rows tr a.open"));
  }

  function mark() {
    links().forEach(function (a) {
      var row = a.closest("tr");
      var on = a.getAttribute("href") === selected;
      row.classList.toggle("selected", on);
      if (on) row.setAttribute("aria-current", "true"); else row.removeAttribute("aria-current");
    });
  }

  function move(step) {
    var all = links();
    if (!all.length) return;
    var at = all.findIndex(function (a) { return a.getAttribute("href") === selected; });
    var next = at === -1 ? (step > 0 ? 0 : all.length - 1)
      : Math.min(all.length - 1, Math.max(0, at + step));
    selected = all[next].getAttribute("href");
    sessionStorage.setItem(SELECTED, selected);
    mark();
    all[next].focus();
  }

  var rows = document.getElementById("rows");
  if (rows) {
    mark();
    // queue.js redraws the rows: keep the selection, and the focus if the redraw took it away
    new MutationObserver(function () {
      var lost = !document.activeElement || document.activeElement === document.body;
      mark();
      if (!lost || !selected) return;
      var again = links().find(function (a) { return a.getAttribute("href") === selected; });
      if (again) again.focus();
    }).observe(rows, { childList: true });
  }

  function click(id) {
    var el = document.getElementById(id);
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (help && help.open) return; // the dialog handles its own keys (Esc closes it)
    var done = true;
    switch (e.key) {
      case "?": showHelp(); break;
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter":
        if (!rows || (e.target && e.target.closest && e.target.closest("a, button"))) {
          done = false; // a focused link or button does its own thing
        } else {
          var open = links().find(function (a) { return a.getAttribute("href") === selected; });
          if (open) window.location.href = open.href; else done = false;
        }
        break;
      case "t": done = click("claim"); break;
      case "r":
        var reply = document.getElementById("text");
        if (reply && !reply.disabled) reply.focus(); else done = false;
        break;
      case "q":
        var queue = document.querySelector("a.brand"); // the queue
        if (queue) window.location.href = queue.href; else done = false;
        break;
      default: done = false;
    }
    if (done) e.preventDefault();
  });
})();
