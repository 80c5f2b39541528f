// Canned answers in the reply box. Type "/" (at the start or after a space) and a few letters: a
// listbox of matching titles opens under the box, the conversation's language first. ↑ and ↓
// choose, Enter (or a click) puts the answer, numbers filled in, where "/letters" was, to edit
// before sending; Escape closes the list. The reply box is the list's combobox (ARIA 1.2: focus
// stays in it, aria-activedescendant names the chosen option). Text goes in via textContent.
(function () {
  "use strict";
  var list = document.getElementById("canned-list");
  var box = document.querySelector("form.reply textarea[name=text]");
  if (!list || !box) return;
  var live = document.getElementById("canned-live");
  var answers = null; // [{id, lang, title, text}], the conversation's language first
  var loading = null;
  var shown = []; // answers in the list now
  var active = -1;
  var slash = -1; // where the "/" of the current query is
  var dismissed = -1; // the "/" whose list Escape closed
  var MAX_SHOWN = 50;
  var TRIGGER = /(^|\s)\/([^\s\/]{0,40})$/;

  box.setAttribute("role", "combobox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", list.id);
  box.setAttribute("aria-expanded", "false");
  box.setAttribute("aria-describedby", "canned-hint");

  // Resolves true once the answers are here; false if they could not be fetched (the next "/"
  // tries again).
  function load() {
    if (answers) return Promise.resolve(true);
    if (loading) return loading;
    loading = fetch(list.dataset.api, {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (res) {
      if (!res.ok) throw new Error(res.status);
      return res.json();
    }).then(function (data) {
      answers = data.answers || [];
      list.dataset.loaded = String(answers.length);
      return true;
    }).catch(function () {
      announce("Canned answers could not be loaded: type your reply.");
      return false;
    }).finally(function () { loading = null; });
    return loading;
  }

  function plain(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // Titles whose word starts with the query first, then titles containing it, then texts.
  function matches(query) {
    var q = plain(query);
    var scored = [];
    answers.forEach(function (a, i) {
      var title = plain(a.title);
      var score = -1;
      if (!q || (" " + title).replace(/[^a-z0-9]+/g, " ").indexOf(" " + q) !== -1) score = 0;
      else if (title.indexOf(q) !== -1) score = 1;
      else if (plain(a.text).indexOf(q) !== -1) score = 2;
      if (score >= 0) scored.push({ a: a, score: score, i: i });
    });
    scored.sort(function (x, y) { return x.score - y.score || x.i - y.i; });
    return scored.slice(0, MAX_SHOWN).map(function (s) { return s.a; });
  }

  function announce(text) {
    if (live) live.textContent = text;
  }

  function option(a, i) {
    var li = document.createElement("li");
    li.id = "canned-option-" + i;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    li.className = "canned-option";
    li.dataset.index = String(i);
    li.dataset.lang = a.lang;
    var lang = document.createElement("span");
    lang.className = "canned-lang";
    lang.textContent = a.lang.toUpperCase();
    var title = document.createElement("span");
    title.className = "canned-title";
    title.textContent = a.title;
    var text = document.createElement("span");
    text.className = "canned-text";
    text.textContent = a.text;
    li.appendChild(lang);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(title);
    li.appendChild(text);
    return li;
  }

  function open(found) {
    shown = found;
    var fragment = document.createDocumentFragment();
    found.forEach(function (a, i) { fragment.appendChild(option(a, i)); });
    list.replaceChildren(fragment);
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
    choose(0);
    announce(found.length + (found.length === 1 ? " canned answer" : " canned answers") +
      ": ↑ ↓ to choose, Enter to insert, Escape to close.");
  }

  function close() {
    if (list.hidden) return;
    list.hidden = true;
    list.replaceChildren();
    shown = [];
    active = -1;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function choose(i) {
    var items = list.children;
    if (!items.length) return;
    active = (i + items.length) % items.length;
    for (var k = 0; k < items.length; k++) {
      items[k].setAttribute("aria-selected", k === active ? "true" : "false");
    }
    box.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function insert(i) {
    var a = shown[i];
    if (!a) return;
    var end = box.selectionStart;
    var before = box.value.slice(0, slash);
    box.value = before + a.text + box.value.slice(end);
    var caret = before.length + a.text.length;
    box.setSelectionRange(caret, caret);
    close();
    box.focus();
    announce("Inserted “" + a.title + "” (" + a.lang + "). Edit it, then send.");
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // The query being typed: the letters after a "/" that starts a word, up to the caret.
  function update() {
    if (box.selectionStart !== box.selectionEnd) { close(); return; }
    var m = TRIGGER.exec(box.value.slice(0, box.selectionStart));
    if (!m) { slash = -1; dismissed = -1; close(); return; }
    slash = box.selectionStart - m[2].length - 1;
    if (slash === dismissed) return;
    if (!answers) {
      load().then(function (ok) { if (ok) update(); });
      return;
    }
    var found = matches(m[2]);
    if (found.length) open(found);
    else { close(); announce("No canned answer matches “" + m[2] + "”."); }
  }

  box.addEventListener("input", update);
  box.addEventListener("click", update);
  box.addEventListener("keyup", function (e) {
    if (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "Home" || e.key === "End") {
      update();
    }
  });
  box.addEventListener("keydown", function (e) {
    if (list.hidden || e.isComposing) return;
    if (e.key === "ArrowDown") { e.preventDefault(); choose(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); choose(active - 1); }
    else if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      insert(active);
    } else if (e.key === "Escape") {
      e.preventDefault();
      dismissed = slash;
      close();
      announce("Canned answers closed.");
    }
  });
  box.addEventListener("blur", function () { setTimeout(function () {
    if (document.activeElement !== box) close();
  }, 150); });
  list.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep the focus
  list.addEventListener("click", function (e) {
    var li = e.target.closest("li[role=option]");
    if (li) insert(Number(li.dataset.index));
  });
  box.addEventListener("focus", load);
})();
