"""What the browser tests share besides fixtures (tests/browser/conftest.py): page sizes,
logging in to the console, axe-core, the chat widget's log, and a second local site."""

from __future__ import annotations

import threading
from typing import Any

from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.helpers import PASSWORD

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def log_in(page: Any, url: str, name: str) -> None:
    page.goto(url + "/console/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()


def axe_violations(page: Any) -> list[str]:
    """Serious or critical accessibility problems (contrast, labels, roles) axe-core finds."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def chat_lines(page: Any) -> Any:
    """The lines of the chat widget's log (the person's, the bot's, an operator's)."""
    return page.locator(".log li")


def traces(page: Any) -> dict[str, Any]:
    """What the page keeps in the browser: storage keys and cookies."""
    return page.evaluate(
        "() => ({session: Object.keys(sessionStorage), local: Object.keys(localStorage),"
        " cookie: document.cookie})"
    )


class NeutralSite:
    """A second local origin: the quick-exit target, and a page that embeds the widget."""

    def __init__(self) -> None:
        self.widget_src = ""
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wsgi(self, environ: dict, start_response: Any) -> Any:
        path = Request(environ).path
        body = f"<!doctype html><html lang='en'><title>Weather</title><h1>Weather {path}</h1>"
        response = Response(body, mimetype="text/html")
        if path == "/embed":
            response.set_data(
                "<!doctype html><html lang='en'><title>Shelter</title><main><h1>Our shelter</h1>"
                f"</main><script src='{self.widget_src}' defer></script>"
            )
            # A strict host page: no inline style, scripts and fetches only from the chat host.
            chat = self.widget_src.rsplit("/", 1)[0]
            response.headers["Content-Security-Policy"] = (
                f"default-src 'self'; script-src {chat}; connect-src {chat}; style-src 'self'"
            )
        return response(environ, start_response)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
