"""Work each worker does in the background, once a second: nothing here answers a person.

- replay the journal into Redis as soon as Redis answers (whichever worker gets there first);
- restart the embedded Valkey when it died (under its start lock; a frozen one is left alone);
- answer a critical message in a conversation an operator holds, if the operator has not
  within `store.HELD_ALERT_SECONDS`.

The thread starts lazily in each worker process (gunicorn forks after loading the app).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from bot import store
from bot.replies import reply_text
from bot.smstext import smart_encode

log = logging.getLogger(__name__)


class Upkeep:
    """Runs `tasks` every `interval` seconds in one daemon thread per process."""

    def __init__(self, tasks: list[Callable[[], Any]], interval: float = 1.0) -> None:
        self.tasks = tasks
        self.interval = interval
        self._pid = 0
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        """Start the thread in this process unless it runs (cheap: compares a pid)."""
        if self._pid == os.getpid() or self.interval <= 0:
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            threading.Thread(target=self._loop, name="upkeep", daemon=True).start()

    def _loop(self) -> None:
        while True:
            self.run_once()
            time.sleep(self.interval)

    def run_once(self) -> None:
        """Run every task once; a failing one is logged and tried again next round."""
        for task in self.tasks:
            try:
                task()
            except Exception as exc:  # Redis down again, a full disk: next round
                log.warning("upkeep: %s failed (%s)", task.__name__, type(exc).__name__)


def replay_journal(line: Any) -> Callable[[], int]:
    """The task that replays `line.journal` into Redis when turns wait."""

    def replay_journal() -> int:
        journal = line.journal
        if journal is None or not journal.pending():
            return 0
        if line.redis.circuit.is_open and not _answers(line.redis):
            return 0
        applied = journal.replay(line.replay)
        if applied:
            log.warning("replayed %d journalled turn(s) into Redis", applied)
        return applied

    return replay_journal


def _answers(redis: Any) -> bool:
    """Ask Redis past the open circuit (no need to wait out its cooldown); close it if so."""
    try:
        redis.client.ping()
    except Exception:
        return False
    redis.circuit.succeeded()
    return True


def answer_held_alerts(line: Any, outbound: Any) -> Callable[[], None]:
    """The task that sends the emergency reply into held conversations left unanswered."""

    def answer_held_alerts() -> None:
        r = line.redis
        for cid in store.due_alerts(r, time.time()):
            conv = store.conversation(r, cid)
            since = float(conv.get("alert") or 0)
            if not conv or not since:
                continue
            if any(
                e.sender.startswith("operator:") and e.ts >= since for e in store.transcript(r, cid)
            ):
                store.clear_alert(r, cid)
                continue
            send_alert_reply(line, outbound, cid, conv, since)

    return answer_held_alerts


def send_alert_reply(
    line: Any, outbound: Any, cid: str, conv: dict[str, str], since: float
) -> None:
    """The bot's emergency (or crisis) reply, sent because no operator answered in time."""
    intent = conv.get("alert_intent") or "emergency"
    language = conv.get("chosen_language") or conv.get("language") or "en"
    replies = line.content.replies
    text = reply_text(replies, intent, language, line.numbers)
    meta: dict[str, Any] = {"held_alert": True}
    if conv.get("channel") in ("sms", "whatsapp"):
        text = smart_encode(text) if conv.get("channel") == "sms" else text
        try:
            meta["sid"] = outbound.send(
                cid, conv.get("address", ""), text, key=f"held-alert:{since!r}"
            )
        except Exception as exc:
            log.error("could not send the emergency reply to a held conversation: %s", exc)
            meta["failed"] = str(exc)[:200]
    entry = store.Entry("out", "bot", text, time.time(), intent, meta=meta)
    store.append_entry(line.redis, cid, entry, line.retention_seconds)
    store.clear_alert(line.redis, cid)
    log.warning(
        "no operator answered a critical message within %d s; the bot replied",
        store.HELD_ALERT_SECONDS,
    )
