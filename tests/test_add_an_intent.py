"""Adding an intent touches data only: a line in the contract, a way to recognise it (keywords,
or training examples and `train`), and a reply in each reply file. Nothing in bot/ changes."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml

from bot import accounts, create_app, store
from bot.config import ROOT
from bot.triage import hygiene
from bot.triage.classify import load_classifier
from bot.triage.contract import contract_file, load_contract
from bot.triage.train import train
from tests.helpers import EXAMPLES, PASSWORD, SMALL, logged_in, reply, sign, texts, write_set

CALLBACK = {  # the new intent's reply, per language; English stands in for the others
    "en": "We can call you back. Reply with a safe time to call, or call {hotline} yourself. "
    "In danger now? Call {emergency}.",
    "es": "Podemos llamarle. Responda con una hora segura, o llame al {hotline}. "
    "¿En peligro ahora? Llame al {emergency}.",
}


def add_intent(intents: Path, responses: Path, *, keywords: dict[str, list[str]]) -> None:
    """The data-only change: `callback` (high) after talk_to_person, its keywords, its replies."""
    contract = contract_file(intents)
    text = contract.read_text(encoding="utf-8")
    anchor = "  - {name: talk_to_person, priority: high}\n"
    assert anchor in text
    contract.write_text(
        text.replace(anchor, anchor + "  - {name: callback, priority: high}\n"), encoding="utf-8"
    )
    if keywords:
        path = intents / "keywords.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc["keywords"]["callback"] = keywords
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    for path in sorted(responses.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc["replies"]["callback"] = CALLBACK.get(doc.get("language", path.stem), CALLBACK["en"])
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    intents, responses = tmp_path / "intents", tmp_path / "responses"
    shutil.copytree(ROOT / "intents", intents)
    shutil.copytree(ROOT / "responses", responses)
    return intents, responses


def problems(intents: Path, responses: Path) -> list[str]:
    """What `triage-line check` reports about the data files and the shipped head."""
    return hygiene.check_all(intents, responses, io.StringIO())


def test_a_keyword_intent_answers_queues_and_is_searchable(app_config, data) -> None:
    intents, responses = data
    add_intent(intents, responses, keywords={"en": ["callback"], "es": ["llamame"]})
    assert problems(intents, responses) == []
    app = create_app({**app_config, "INTENTS_DIR": str(intents), "RESPONSES_DIR": str(responses)})
    client = app.test_client()

    for sender, body, opening in (
        ("+15550004001", "CALLBACK", "We can call you back."),
        ("+15550004002", "llámame", "Podemos llamarle."),
        ("+15550004003", "Calback pls", "We can call you back."),  # a typo and a courtesy word
    ):
        params = {"From": sender, "Body": body}
        headers = {"X-Twilio-Signature": sign("http://localhost/sms", params)}
        text = reply(client.post("/sms", data=params, headers=headers))
        assert text.startswith(opening) and "1-888-373-7888" in text, (body, text)
        state = store.load_state(app.redis, f"sms:{sender}")
        assert state.priority == "high", body  # the contract's priority for the new intent

    texts(app, "+15550004004", "hello")  # another intent: not in the search below
    accounts.create(app.redis, "alice", PASSWORD)
    operator = logged_in(app, "alice")
    found = operator.get("/console/search", query_string={"intent": "callback"})
    assert found.status_code == 200
    html = found.get_data(as_text=True)
    assert [n in html for n in ("•4001", "•4002", "•4003", "•4004")] == [True, True, True, False]


def test_an_intent_without_a_reply_or_a_way_to_recognise_it_is_named(data) -> None:
    intents, responses = data
    add_intent(intents, responses, keywords={})
    found = problems(intents, responses)
    assert any("no way to recognise callback" in p for p in found), found
    with pytest.raises(ValueError, match="no way to recognise callback: give it keywords"):
        load_classifier(intents)

    english = responses / "en.yaml"
    doc = yaml.safe_load(english.read_text(encoding="utf-8"))
    del doc["replies"]["callback"]
    english.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert any(
        p.startswith(f"{english}:") and "callback" in p for p in problems(intents, responses)
    )


CALLBACK_EXAMPLES = [
    ("please call me back tonight", "callback"),
    ("can someone phone me later", "callback"),
    ("ring me back after 6pm", "callback"),
    ("llámenme más tarde por favor", "callback"),
]


def test_an_intent_learnt_from_training_examples(data, tmp_path: Path) -> None:
    intents, responses = data
    add_intent(intents, responses, keywords={})
    examples, model = tmp_path / "train", tmp_path / "model"
    write_set(examples, [*EXAMPLES, *CALLBACK_EXAMPLES])

    train(examples, model, SMALL, say=lambda _: None, terms=load_contract(contract_file(intents)))

    classifier = load_classifier(intents, model)
    reading = classifier.classify("could you call me back tomorrow morning")
    assert (reading.intent, reading.priority, reading.matched) == ("callback", "high", "model")
    assert classifier.classify("they locked me in the room and he is hitting me").intent == (
        "emergency"
    )
