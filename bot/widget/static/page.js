/* The demo page follows the chat widget's language: on the widget's "triage-line:language"
   event it fetches its own text in that language (/page/strings/<lang>.json, same origin) and
   swaps every [data-t] element, the title, and <html lang dir>. If the fetch fails the page
   keeps the language it has. */
(function () {
  "use strict";
  var html = document.documentElement;
  var current = html.lang, asked = html.lang;

  addEventListener("triage-line:language", function (e) {
    var lang = e.detail && e.detail.lang;
    if (!lang || !/^[a-z]{2,3}$/.test(lang) || lang === asked) return;
    asked = lang;
    fetch("/page/strings/" + lang + ".json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (page) {
        if (asked !== lang) return; // another language was asked for meanwhile
        [].forEach.call(document.querySelectorAll("[data-t]"), function (el) {
          var text = page.text[el.getAttribute("data-t")];
          if (typeof text === "string") el.innerHTML = text; // built and escaped by the server
        });
        if (document.title) document.title = page.title; // empty after a quick exit: keep it so
        html.lang = page.lang;
        html.dir = page.dir;
        current = page.lang;
      })
      .catch(function () { asked = current; });
  });
})();
