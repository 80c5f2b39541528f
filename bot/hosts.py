"""Which Host headers the app answers (Flask's TRUSTED_HOSTS): any other gets 400.

Twilio's signature covers the URL it called; without `PUBLIC_URL` the webhook rebuilds that URL
from the Host header, which the client chooses. Refusing unknown hosts means a signature made
for another host is never checked against ours.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.sansio.utils import host_is_trusted

log = logging.getLogger(__name__)

LOOPBACK = ("localhost", "127.0.0.1")
HEALTH_PATH = "/healthz"


def trusted_hosts(setting: str | Iterable[str] | None, public_url: str) -> list[str]:
    """TRUSTED_HOSTS (comma-separated) if set; else PUBLIC_URL's host and the loopback names
    (a probe or a shell on the machine itself); else the loopback names only (a laptop)."""
    if isinstance(setting, str):
        setting = setting.split(",")
    hosts = [h.strip().lower() for h in setting or () if h.strip()]
    if hosts:
        return hosts
    public = urlsplit(public_url.strip()).hostname if public_url.strip() else None
    return ([public] if public else []) + list(LOOPBACK)


class HealthFromAnyHost:
    """WSGI middleware: `GET /healthz` is answered whatever the Host header, so a load balancer
    probing by IP address keeps seeing the instance. It reveals nothing about the request, and
    every other path still needs a trusted host."""

    def __init__(self, app: Callable[..., Any], hosts: list[str]) -> None:
        self.app, self.hosts = app, hosts
        # A name the check accepts (".example.org" trusts its subdomains, not itself as typed).
        self.stand_in = next((h for h in hosts if not h.startswith(".")), hosts[0].lstrip("."))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Give `/healthz` a trusted Host header when it has none, then run the app."""
        if environ.get("PATH_INFO") == HEALTH_PATH and not host_is_trusted(
            environ.get("HTTP_HOST"), self.hosts
        ):
            environ = {**environ, "HTTP_HOST": self.stand_in}
        return self.app(environ, start_response)


def configure(app: Flask) -> None:
    """Set Flask's TRUSTED_HOSTS from the settings and let /healthz through from any host.
    Call before ProxyFix wraps the app, so the forwarded host is the one checked."""
    hosts = trusted_hosts(app.config.get("TRUSTED_HOSTS"), app.config.get("PUBLIC_URL") or "")
    app.config["TRUSTED_HOSTS"] = hosts
    app.wsgi_app = HealthFromAnyHost(app.wsgi_app, hosts)  # type: ignore[method-assign]
    if hosts == list(LOOPBACK) and not app.config.get("TESTING"):
        log.warning(
            "neither PUBLIC_URL nor TRUSTED_HOSTS is set: only requests for localhost "
            "and 127.0.0.1 are answered (others get 400)"
        )
