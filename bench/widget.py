"""Chat widget budgets: gzipped size of widget.js (CSS and English inside) and of each other
language's table (fetched when wanted), and in headless Chromium the time from page load to the
widget being usable (in English, and in Arabic with its table fetched) and from pressing Send to
the reply on screen.

Starts its own Valkey (bench/common.py) and the app under werkzeug in a thread; nothing leaves
the machine. Usage: `.venv/bin/python bench/widget.py [runs]` (default 10). Exit status 1 if the
size budget (15 KB gzipped) is exceeded.
"""

from __future__ import annotations

import gzip
import logging
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUDGET = 15 * 1024

# Records when the widget marks itself ready (navigation start is performance's time origin).
READY_PROBE = """
new MutationObserver((changes, observer) => {
  const host = document.querySelector('[data-triage-widget][data-ready]');
  if (host) { window.__ready = performance.now(); observer.disconnect(); }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""
READY = "[data-triage-widget][data-ready]"
# Clicks Send and resolves with the milliseconds until a new reply bubble is in the log.
SEND_AND_WAIT = """
async (text) => {
  const root = document.querySelector('[data-triage-widget]').shadowRoot;
  const log = root.querySelector('.log');
  const before = log.querySelectorAll('li.bot, li.operator').length;
  root.querySelector('textarea').value = text;
  const t0 = performance.now();
  const done = new Promise((resolve) => new MutationObserver((c, observer) => {
    if (log.querySelectorAll('li.bot, li.operator').length > before) {
      observer.disconnect(); resolve(performance.now() - t0);
    }
  }).observe(log, {childList: true}));
  root.querySelector('.send').click();
  return await done;
}
"""


def summary(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[max(0, int(len(values) * 0.9) - 1)] if len(values) > 1 else values[0]
    median = statistics.median(values)
    return f"median {median:6.1f} ms   p90 {p90:6.1f} ms   max {values[-1]:6.1f} ms"


def main(runs: int) -> int:
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from bench.common import start_valkey
    from bot import create_app
    from bot.widget.pages import LANGUAGES
    from tests.servers import CHROMIUM_ARGS

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    tmp = Path(tempfile.mkdtemp(prefix="bench-widget-"))
    valkey = start_valkey(tmp)
    server = None
    try:
        app = create_app(
            {
                "REDIS_URL": valkey.url,
                "SECRET_KEY": "bench",
                "DATA_DIR": str(tmp / "data"),
                "QUICK_EXIT_URL": "http://127.0.0.1:9/neutral",
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"

        source = app.test_client().get("/widget.js").data
        packed = len(gzip.compress(source, 9))
        verdict = "within" if packed <= BUDGET else "OVER"
        print(
            f"widget.js (JS + CSS): {len(source):,} bytes, {packed:,} bytes gzipped "
            f"(-9), {verdict} the {BUDGET:,}-byte budget"
        )
        tables = {
            lang: len(gzip.compress(app.test_client().get(f"/widget/strings/{lang}.json").data, 9))
            for lang in LANGUAGES
            if lang != "en"
        }
        biggest = max(tables, key=tables.__getitem__)
        print(
            f"one language table, fetched when wanted: {min(tables.values()):,} to "
            f"{tables[biggest]:,} bytes gzipped ({biggest}), {len(tables)} languages"
        )

        ready, arabic, first, second = [], [], [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                headless=True,
                args=CHROMIUM_ARGS,
            )
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 360, "height": 740})
                page = context.new_page()
                page.add_init_script(READY_PROBE)
                page.goto(url + "/")
                page.wait_for_selector(READY, state="attached")  # no eval: the CSP forbids it
                ready.append(page.evaluate("window.__ready"))
                page.locator(".launch").click()
                first.append(page.evaluate(SEND_AND_WAIT, "help"))  # includes /chat/api/start
                second.append(page.evaluate(SEND_AND_WAIT, "ayuda"))
                context.close()
                context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ar")
                page = context.new_page()
                page.add_init_script(READY_PROBE)
                page.goto(url + "/")
                page.wait_for_selector(READY, state="attached")  # no eval: the CSP forbids it
                arabic.append(page.evaluate("window.__ready"))
                context.close()
            browser.close()
        print(f"page load -> widget usable ({runs} cold loads, 360x740): {summary(ready)}")
        print(f"same, in Arabic (its table fetched):           {summary(arabic)}")
        print(f"send -> reply shown, first message (start + send): {summary(first)}")
        print(f"send -> reply shown, next message:                 {summary(second)}")
        return 0 if packed <= BUDGET else 1
    finally:
        if server is not None:
            server.shutdown()
        valkey.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
