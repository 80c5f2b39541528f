/* Triage line chat widget: embed with <script src="https://HOST/widget.js" defer></script>.
   No framework, no cookies, no third-party requests. The conversation token lives in
   sessionStorage only. Quick exit (button, Esc, or Shift three times) blanks the page, ends the
   chat with a beacon, clears the widget's storage and replaces the page with a neutral site. */
(function () {
  "use strict";
  var S = /*SETTINGS*/{};
  var CSS = /*CSS*/"";
  var me = document.currentScript;
  if (!me || window.__triageWidget) return;
  window.__triageWidget = true;
  var origin = new URL(me.src, location.href).origin;
  var exitUrl = safeUrl(me.getAttribute("data-exit-url")) || S.exitUrl;
  var KEY = "tlw.token", OPEN = "tlw.open", TIMEOUT = 8000, POLL = 3000;

  var T = {
    en: {
      title: "Confidential chat", open: "Chat with us", min: "Minimise",
      exit: "Quick exit", exitName: "Quick exit, leave this page now",
      tip: "Leave fast: Quick exit, Esc, or Shift 3 times. In danger now? Call {em}.",
      hello: "Hello. Write your message below. An automatic reply comes first, and a person may join.",
      label: "Your message", ph: "Type your message", send: "Send", sending: "Sending…",
      you: "You", bot: "Automatic reply", op: "Advocate", unread: "new",
      off: "We can't reach the chat right now. Call the National Human Trafficking Hotline at {hl} or text {tl}, 24 hours a day. In danger now? Call {em}.",
      callHl: "Call {hl}", callEm: "Call {em}",
      more: "Shift: press {n} more times to exit.", one: "Shift: press 1 more time to exit.",
      expired: "Quick exit timed out.",
      slow: "Your message was not sent. You are sending messages faster than we can read them. Wait about {s} seconds and send it again."
    },
    es: {
      title: "Chat confidencial", open: "Chatea con nosotros", min: "Minimizar",
      exit: "Salida rápida", exitName: "Salida rápida, salir de esta página ahora",
      tip: "Sal rápido: Salida rápida, Esc o Mayús 3 veces. ¿En peligro ahora? Llama al {em}.",
      hello: "Hola. Escribe tu mensaje abajo. Primero llega una respuesta automática; después puede unirse una persona.",
      label: "Tu mensaje", ph: "Escribe tu mensaje", send: "Enviar", sending: "Enviando…",
      you: "Tú", bot: "Respuesta automática", op: "Persona de apoyo", unread: "nuevo",
      off: "No podemos conectar con el chat ahora. Llama a la Línea Nacional contra la Trata de Personas al {hl} o envía un texto al {tl}, las 24 horas. ¿En peligro ahora? Llama al {em}.",
      callHl: "Llamar al {hl}", callEm: "Llamar al {em}",
      more: "Mayús: pulsa {n} veces más para salir.", one: "Mayús: pulsa 1 vez más para salir.",
      expired: "La salida rápida ha caducado.",
      slow: "Tu mensaje no se envió. Estás enviando mensajes más rápido de lo que podemos leerlos. Espera unos {s} segundos y vuelve a enviarlo."
    },
    fr: {
      title: "Discussion confidentielle", open: "Discuter avec nous", min: "Réduire",
      exit: "Sortie rapide", exitName: "Sortie rapide, quitter cette page maintenant",
      tip: "Partir vite : Sortie rapide, Échap, ou Maj 3 fois. En danger maintenant ? Appelez le {em}.",
      hello: "Bonjour. Écrivez votre message ci-dessous. Une réponse automatique arrive d'abord, puis une personne peut vous rejoindre.",
      label: "Votre message", ph: "Écrivez votre message", send: "Envoyer", sending: "Envoi…",
      you: "Vous", bot: "Réponse automatique", op: "Conseiller·ère", unread: "nouveau",
      off: "La discussion est injoignable pour le moment. Appelez la ligne nationale contre la traite des êtres humains au {hl} ou envoyez un SMS au {tl}, 24 h/24. En danger maintenant ? Appelez le {em}.",
      callHl: "Appeler le {hl}", callEm: "Appeler le {em}",
      more: "Maj : appuyez encore {n} fois pour sortir.", one: "Maj : appuyez encore 1 fois pour sortir.",
      expired: "La sortie rapide a expiré.",
      slow: "Votre message n'a pas été envoyé. Vous envoyez des messages plus vite que nous ne pouvons les lire. Attendez environ {s} secondes et renvoyez-le."
    }
  };
  var lang = pickLanguage();
  var t = T[lang];

  function safeUrl(url) {
    return /^https?:\/\//i.test(url || "") ? url : null;
  }
  function pickLanguage() {
    var wanted = [me.getAttribute("data-lang"), navigator.language, document.documentElement.lang];
    for (var i = 0; i < wanted.length; i++) {
      var code = (wanted[i] || "").slice(0, 2).toLowerCase();
      if (T[code]) return code;
    }
    return "en";
  }
  function fill(text, n) {
    return text.replace("{em}", S.emergency).replace("{hl}", S.hotline)
      .replace("{tl}", S.textline).replace("{n}", n);
  }

  // sessionStorage can throw (disabled storage, sandboxed frames): the chat then lives in memory.
  var store = {
    get: function (k) { try { return sessionStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { sessionStorage.setItem(k, v); } catch (e) { /* memory only */ } },
    clear: function () {
      try { sessionStorage.removeItem(KEY); sessionStorage.removeItem(OPEN); } catch (e) { /* */ }
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
  var wrap = document.createElement("div");
  wrap.className = "w";
  wrap.lang = lang;
  wrap.innerHTML =
    '<button type="button" class="exit"></button>' +
    '<p class="sr" aria-live="polite" data-r="shift"></p>' +
    '<button type="button" class="launch" aria-expanded="false">' +
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 ' +
    '2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg><span data-r="open"></span>' +
    '<span class="badge" hidden></span></button>' +
    '<section class="panel" aria-labelledby="tlw-title" hidden>' +
    '<div class="head"><h2 id="tlw-title"></h2><button type="button" class="min"></button></div>' +
    '<p class="tip"></p>' +
    '<ol class="log" tabindex="0" aria-live="polite" aria-relevant="additions" aria-labelledby="tlw-title"></ol>' +
    '<div class="off" role="alert" hidden></div>' +
    '<p class="status" aria-live="polite"></p>' +
    '<form class="form"><label class="sr" for="tlw-text"></label>' +
    '<textarea id="tlw-text" rows="1" maxlength="1600" autocomplete="off"></textarea>' +
    '<button type="submit" class="send"></button></form></section>';
  root.appendChild(wrap);

  function $(sel) { return wrap.querySelector(sel); }
  var exitBtn = $(".exit"), shiftNote = $("[data-r=shift]"), launch = $(".launch");
  var badge = $(".badge"), panel = $(".panel"), log = $(".log"), off = $(".off");
  var status = $(".status"), form = $(".form"), input = $("textarea"), sendBtn = $(".send");
  exitBtn.textContent = t.exit;
  exitBtn.setAttribute("aria-label", t.exitName);
  $("[data-r=open]").textContent = t.open;
  $("#tlw-title").textContent = t.title;
  $(".min").textContent = t.min;
  $(".tip").textContent = fill(t.tip);
  $("label").textContent = t.label;
  input.placeholder = t.ph;
  sendBtn.textContent = t.send;

  var token = store.get(KEY), since = 0, busy = false, unread = 0, pollTimer = 0, exited = false;

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
    var p = document.createElement("p");
    p.textContent = fill(t.off);
    off.appendChild(p);
    [["tel:+18883737888", t.callHl], ["tel:" + S.emergency, t.callEm]].forEach(function (l) {
      var a = document.createElement("a");
      a.href = l[0];
      a.textContent = fill(l[1]);
      off.appendChild(a);
    });
    off.hidden = false;
  }

  function bubble(who, text, extra) {
    var li = document.createElement("li");
    li.className = "m " + who + (extra ? " " + extra : "");
    var label = document.createElement("span");
    label.className = who === "person" ? "who sr" : "who";
    label.textContent = (who === "person" ? t.you : who === "operator" ? t.op : t.bot) + ": ";
    li.appendChild(label);
    li.appendChild(document.createTextNode(text));
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
      badge.textContent = unread + " " + t.unread;
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
        status.textContent = t.slow.replace("{s}", Math.max(2, err.data.retry_after || 0));
      } else if (err.status === 0 || err.status >= 500) {
        status.textContent = "";
        showOffline(true);
      } else {
        status.textContent = err.message;
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
  (document.body || document.documentElement).appendChild(host);
  if (store.get(OPEN) === "1") setOpen(true);
  if (token) schedulePoll(0); // a reload in the same tab: bring the conversation back
  host.setAttribute("data-ready", "");
})();
