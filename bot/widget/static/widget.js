/* Triage line chat widget: embed with <script src="https://HOST/widget.js" defer></script>.
   No framework, no cookies, no third-party requests. The conversation token lives in
   sessionStorage only. Quick exit (button, Esc, or Shift three times) blanks the page, ends the
   chat with a beacon, clears the widget's storage and replaces the page with a neutral site.
   Language: data-lang="xx" on the tag, else the browser's, else the page's; the person can change
   it, and the bot's reading of their messages moves it. It is announced to the page with
   window's "triage-line:language" event ({detail: {lang, dir}}). */
(function () {
  "use strict";
  var S = /*SETTINGS*/{};
  var CSS = /*CSS*/"";
  var me = document.currentScript;
  if (!me || window.__triageWidget) return;
  window.__triageWidget = true;
  var origin = new URL(me.src, location.href).origin;
  var exitUrl = safeUrl(me.getAttribute("data-exit-url")) || S.exitUrl;
  var KEY = "tlw.token", OPEN = "tlw.open", LANG = "tlw.lang", TIMEOUT = 8000, POLL = 3000;

  // Languages: English is built in; another table comes from /widget/strings/<lang>.json when
  // wanted (cached by the browser). If it cannot be had the widget stays in English.
  var NAMES = S.langs, T = { en: S.en }, t = S.en, lang = "en";
  var how = "auto"; // where `lang` came from: "auto" (tag, browser, page), "pick" (the picker), "bot"
  var asking = 0; // the latest language asked for wins
  var own = Object.prototype.hasOwnProperty;

  function safeUrl(url) {
    return /^https?:\/\//i.test(url || "") ? url : null;
  }
  function known(value) {
    var code = String(value || "").toLowerCase().split(/[-_]/)[0];
    if (code === "fil") code = "tl";
    return own.call(NAMES, code) ? code : "";
  }
  // The person's choice in this tab, else data-lang, the browser's languages, the page's lang.
  function wanted() {
    var saved = (store.get(LANG) || "").split(" ");
    if (known(saved[0])) return [known(saved[0]), saved[1] === "pick" ? "pick" : "bot"];
    var list = [me.getAttribute("data-lang")]
      .concat(navigator.languages || [navigator.language], document.documentElement.lang);
    for (var i = 0; i < list.length; i++) {
      if (known(list[i])) return [known(list[i]), "auto"];
    }
    return ["en", "auto"];
  }
  function fill(text, n) {
    return text.replace("{n}", n);
  }
  // Text into an element, each number isolated in a <bdi> so it reads the same in Arabic.
  function put(el, text, n) {
    var values = { em: S.emergency, hl: S.hotline, tl: S.textline, n: n, s: n };
    el.textContent = "";
    text.split(/(\{[a-z]+\})/).forEach(function (part, i) {
      var key = i % 2 ? part.slice(1, -1) : "";
      if (key && own.call(values, key) && values[key] !== undefined) {
        var b = document.createElement("bdi");
        b.textContent = values[key];
        el.appendChild(b);
      } else if (part) el.appendChild(document.createTextNode(part));
    });
    return el;
  }
  function numbers(el, text) {
    text.split(/(\+?\d[\d-]*\d)/).forEach(function (part, i) {
      var node = i % 2 ? document.createElement("bdi") : document.createTextNode(part);
      if (i % 2) node.textContent = part;
      if (part) el.appendChild(node);
    });
  }

  // sessionStorage can throw (disabled storage, sandboxed frames): the chat then lives in memory.
  var store = {
    get: function (k) { try { return sessionStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { sessionStorage.setItem(k, v); } catch (e) { /* memory only */ } },
    clear: function () {
      try { [KEY, OPEN, LANG].forEach(function (k) { sessionStorage.removeItem(k); }); }
      catch (e) { /* */ }
    }
  };

  var host = document.createElement("div");
  host.setAttribute("data-triage-widget", "");
  var root = host.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS); // constructed sheets also work under a strict style-src CSP
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    var style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
  }
  var options = "";
  for (var code in NAMES) {
    options += '<option value="' + code + '" lang="' + code + '">' + NAMES[code] + "</option>";
  }
  var wrap = document.createElement("div");
  wrap.className = "w";
  wrap.innerHTML =
    '<button type="button" class="exit"></button>' +
    '<p class="sr" aria-live="polite" data-r="shift"></p>' +
    '<button type="button" class="launch" aria-expanded="false">' +
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 ' +
    '2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg><span data-r="open"></span>' +
    '<span class="badge" hidden></span></button>' +
    '<section class="panel" aria-labelledby="tlw-title" hidden>' +
    '<div class="head"><h2 id="tlw-title"></h2><div class="tools">' +
    '<label class="sr" for="tlw-lang"></label><select id="tlw-lang">' + options + "</select>" +
    '<button type="button" class="min"></button></div></div>' +
    '<p class="tip"></p>' +
    '<ol class="log" tabindex="0" aria-live="polite" aria-relevant="additions" aria-labelledby="tlw-title"></ol>' +
    '<div class="off" role="alert" hidden></div>' +
    '<p class="status" aria-live="polite"></p>' +
    '<form class="form"><label class="sr" for="tlw-text"></label>' +
    '<textarea id="tlw-text" rows="1" maxlength="1600" autocomplete="off" dir="auto"></textarea>' +
    '<button type="submit" class="send"></button></form></section>';
  root.appendChild(wrap);

  function $(sel) { return wrap.querySelector(sel); }
  var exitBtn = $(".exit"), shiftNote = $("[data-r=shift]"), launch = $(".launch");
  var badge = $(".badge"), panel = $(".panel"), log = $(".log"), off = $(".off");
  var status = $(".status"), form = $(".form"), input = $("textarea"), sendBtn = $(".send");
  var picker = $("select");

  // Every string on screen in the current language; tells the page (triage-line:language).
  function apply(tell) {
    var dir = S.rtl.indexOf(lang) < 0 ? "ltr" : "rtl";
    wrap.lang = lang;
    wrap.dir = dir;
    host.setAttribute("data-lang", lang);
    exitBtn.textContent = t.exit;
    exitBtn.setAttribute("aria-label", t.exitName);
    $("[data-r=open]").textContent = t.open;
    $("#tlw-title").textContent = t.title;
    $(".min").textContent = t.min;
    $("[for=tlw-lang]").textContent = t.lang;
    picker.value = lang;
    put($(".tip"), t.tip);
    $("[for=tlw-text]").textContent = t.label;
    input.placeholder = t.ph;
    sendBtn.textContent = t.send;
    [].forEach.call(log.querySelectorAll(".who"), function (label) {
      label.textContent = t[label.getAttribute("data-w")] + ": ";
    });
    [].forEach.call(log.querySelectorAll(".hello .t"), function (text) {
      text.textContent = t.hello;
    });
    if (unread) put(badge, t.unread, unread);
    if (!off.hidden) { off.hidden = true; showOffline(true); }
    if (tell) {
      try {
        dispatchEvent(new CustomEvent("triage-line:language", { detail: { lang: lang, dir: dir } }));
      } catch (e) { /* an old browser: the page keeps its language */ }
    }
  }
  function load(code) {
    if (T[code]) return Promise.resolve(T[code]);
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, TIMEOUT);
    return fetch(origin + "/widget/strings/" + code + ".json", {
      credentials: "omit", referrerPolicy: "no-referrer", signal: ctl.signal
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      clearTimeout(timer);
      if (!data) return null;
      var table = {};
      for (var key in S.en) table[key] = typeof data[key] === "string" ? data[key] : S.en[key];
      return (T[code] = table);
    }, function () { clearTimeout(timer); return null; });
  }
  // Switch to `code` (once its table is here); "pick" and "bot" choices last for this tab.
  function setLang(code, source) {
    var mine = ++asking;
    return load(code).then(function (table) {
      if (mine !== asking || exited) return;
      if (!table) { picker.value = lang; return; }
      lang = code;
      t = table;
      how = source;
      if (source !== "auto") store.set(LANG, code + " " + source);
      apply(true);
    });
  }
  // The bot read the person's language: follow it, unless the person picked one in the picker.
  // English is also the bot's answer when it cannot tell, so it only undoes an earlier switch.
  function follow(value) {
    var code = known(value);
    if (!code || code === lang || how === "pick" || (code === "en" && how !== "bot")) return;
    setLang(code, "bot");
  }
  picker.addEventListener("change", function () { setLang(picker.value, "pick"); });

  var token = store.get(KEY), since = 0, busy = false, unread = 0, pollTimer = 0, exited = false;
  var first = wanted();

  // ---- Quick exit -------------------------------------------------------------------------
  function quickExit() {
    if (exited) return;
    exited = true;
    document.documentElement.style.background = "#fff";
    if (document.body) document.body.style.display = "none";
    document.title = "";
    if (token && navigator.sendBeacon) {
      try { navigator.sendBeacon(origin + "/chat/api/end", JSON.stringify({ token: token })); }
      catch (e) { /* leaving matters more than closing */ }
    }
    store.clear();
    token = null;
    log.textContent = "";
    location.replace(exitUrl);
  }
  exitBtn.addEventListener("click", quickExit);

  var presses = 0, shiftAlone = false, shiftTimer = 0;
  function announce(text) {
    shiftNote.textContent = "";
    setTimeout(function () { shiftNote.textContent = text; }, 50);
  }
  function resetShift(say) {
    clearTimeout(shiftTimer);
    if (presses && say) announce(t.expired);
    presses = 0;
  }
  document.addEventListener("keydown", function (e) {
    if (e.isComposing) return;
    if (e.key === "Escape") { e.preventDefault(); quickExit(); return; }
    if (e.key === "Shift") { shiftAlone = !e.repeat; return; }
    shiftAlone = false;
    if (presses) resetShift(false);
  }, true);
  document.addEventListener("keyup", function (e) {
    if (e.key !== "Shift" || !shiftAlone) return;
    shiftAlone = false;
    presses += 1;
    if (presses >= 3) { resetShift(false); quickExit(); return; }
    if (presses === 1) shiftTimer = setTimeout(function () { resetShift(true); }, 5000);
    announce(presses === 2 ? t.one : fill(t.more, 3 - presses));
  }, true);
  // Back into a page kept in the back-forward cache: never show the chat again after an exit.
  addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    if (exited) {
      if (document.body) document.body.style.display = "none";
      location.replace(exitUrl);
    } else if (!store.get(KEY)) {
      token = null;
      since = 0;
      log.textContent = "";
      greet();
    }
  });

  // ---- Talking to the server ----------------------------------------------------------------
  function api(method, path, body) {
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, TIMEOUT);
    return fetch(origin + path, {
      method: method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: ctl.signal, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        clearTimeout(timer);
        if (r.ok) return data;
        var err = new Error(data.message || "HTTP " + r.status);
        err.status = r.status;
        err.data = data;
        throw err;
      });
    }, function () {
      clearTimeout(timer);
      var err = new Error("offline");
      err.status = 0;
      throw err;
    });
  }

  function showOffline(on) {
    if (!on) { off.hidden = true; return; }
    if (!off.hidden) return;
    off.textContent = "";
    off.appendChild(put(document.createElement("p"), t.off));
    [["tel:+18883737888", t.callHl], ["tel:" + S.emergency, t.callEm]].forEach(function (l) {
      var a = put(document.createElement("a"), l[1]);
      a.href = l[0];
      off.appendChild(a);
    });
    off.hidden = false;
  }

  function bubble(who, text, extra) {
    var li = document.createElement("li");
    li.className = "m " + who + (extra ? " " + extra : "");
    var label = document.createElement("span");
    label.className = who === "person" ? "who sr" : "who";
    label.setAttribute("data-w", who === "person" ? "you" : who === "operator" ? "op" : "bot");
    label.textContent = t[label.getAttribute("data-w")] + ": ";
    var body = document.createElement("span");
    body.className = "t";
    body.dir = "auto"; // a message keeps its own direction whatever the widget's language
    numbers(body, text);
    li.appendChild(label);
    li.appendChild(body);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }
  function greet() {
    bubble("bot", t.hello, "hello");
  }
  function render(data) {
    if (data.reset) {
      log.textContent = "";
      greet();
    }
    var fresh = 0;
    (data.entries || []).forEach(function (e) {
      bubble(e.from, e.text);
      if (e.from !== "person") fresh += 1;
    });
    if (typeof data.next === "number") since = data.next;
    if (fresh && panel.hidden) {
      unread += fresh;
      put(badge, t.unread, unread);
      badge.hidden = false;
    }
  }

  function send(text, retry) {
    busy = true;
    sendBtn.disabled = true;
    status.textContent = t.sending;
    var pending = bubble("person", text, "pending");
    var ready = token ? Promise.resolve(token) : api("POST", "/chat/api/start").then(function (d) {
      token = d.token;
      store.set(KEY, token);
      return token;
    });
    return ready.then(function (tok) {
      return api("POST", "/chat/api/messages", { token: tok, text: text, since: since, lang: lang });
    }).then(function (data) {
      pending.remove();
      follow(data.language);
      input.value = "";
      showOffline(false);
      status.textContent = "";
      render(data);
    }, function (err) {
      pending.remove();
      if (err.status === 404 && retry) { // token from an older server key: start afresh
        token = null;
        since = 0;
        busy = false;
        return send(text, false);
      }
      if (err.status === 429 && err.data.error === "too_many") {
        // Not stored: the text stays in the box. Danger still gets the built-in reply.
        if (err.data.reply) bubble("bot", err.data.reply);
        put(status, t.slow, Math.max(2, err.data.retry_after || 0));
      } else if (err.status === 0 || err.status >= 500) {
        status.textContent = "";
        showOffline(true);
      } else {
        put(status, err.data.error === "too_many_chats" ? t.chats : t.failed);
      }
    }).then(function () {
      busy = false;
      sendBtn.disabled = false;
      schedulePoll(POLL);
    });
  }

  function poll() {
    pollTimer = 0;
    if (!token || exited) return;
    if (busy || document.hidden) { schedulePoll(POLL); return; }
    var asked = since;
    api("GET", "/chat/api/messages?token=" + encodeURIComponent(token) + "&since=" + since)
      .then(function (data) {
        if (busy || asked !== since) { schedulePoll(POLL); return; } // a send answered these
        showOffline(false);
        render(data);
        schedulePoll(POLL);
      }, function (err) {
        if (err.status === 404) { token = null; store.clear(); return; }
        showOffline(true);
        schedulePoll(POLL * 3);
      });
  }
  function schedulePoll(delay) {
    if (!pollTimer && token) pollTimer = setTimeout(poll, delay);
  }

  // ---- Opening, closing, typing ---------------------------------------------------------------
  function setOpen(open) {
    panel.hidden = !open;
    launch.hidden = open;
    launch.setAttribute("aria-expanded", String(open));
    store.set(OPEN, open ? "1" : "");
    if (open) {
      unread = 0;
      badge.hidden = true;
      log.scrollTop = log.scrollHeight;
      input.focus();
    }
  }
  launch.addEventListener("click", function () { setOpen(true); });
  $(".min").addEventListener("click", function () { setOpen(false); launch.focus(); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (text && !busy) send(text, true);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  greet();
  apply(first[0] === "en"); // English at once; another language as soon as its table is here
  (document.body || document.documentElement).appendChild(host);
  if (store.get(OPEN) === "1") setOpen(true);
  if (token) schedulePoll(0); // a reload in the same tab: bring the conversation back
  function ready() { host.setAttribute("data-ready", ""); }
  if (first[0] === "en") {
    how = first[1];
    ready();
  } else {
    // Laid out for the wanted language at once, so quick exit does not move when its words come.
    if (S.rtl.indexOf(first[0]) >= 0) wrap.dir = "rtl";
    setLang(first[0], first[1]).then(function () {
      if (lang === "en") apply(false); // the table could not be had: English, left to right
      ready();
    });
  }
})();
