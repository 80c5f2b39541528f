"""Adding a reply language touches data only: a file in responses/ and the line answers in it."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bot import create_app
from bot.config import ROOT
from tests.helpers import reply, sign

GERMAN = {
    "help": "Wir helfen. Rufen Sie die Hotline {hotline} an oder schreiben Sie an {textline}, "
    "rund um die Uhr. In Gefahr? Rufen Sie {emergency}.",
}


def test_a_new_reply_file_is_a_new_language(app_config, tmp_path: Path):
    responses = tmp_path / "responses"
    shutil.copytree(ROOT / "responses", responses)
    english = yaml.safe_load((responses / "en.yaml").read_text(encoding="utf-8"))
    german = {
        **english,
        "language": "de",
        "review": "A test's file, not for use.",
        "replies": {**english["replies"], **GERMAN},
    }
    (responses / "de.yaml").write_text(yaml.safe_dump(german, allow_unicode=True), encoding="utf-8")
    app = create_app({**app_config, "RESPONSES_DIR": str(responses)})

    params = {"From": "+15550007777", "Body": "Ich brauche Hilfe, mein Chef hat meinen Pass"}
    headers = {"X-Twilio-Signature": sign("http://localhost/sms", params)}
    text = reply(app.test_client().post("/sms", data=params, headers=headers))
    assert text.startswith("Wir helfen.") and "1-888-373-7888" in text
    assert "interpreter" not in text.lower()  # a language with replies needs no interpreter line
