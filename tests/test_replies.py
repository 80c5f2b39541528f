"""Replies in every language: the same facts as English, within the SMS budget, reviewed
honestly, back-translated; and each language kept across a conversation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ROOT
from bot.datafiles import load_file
from bot.replies import Numbers, load_responses, reply_text
from bot.smstext import is_gsm7, segments, smart_encode
from bot.triage.contract import contract
from tests.helpers import HOTLINE, reply

LANGUAGES = [
    "en",
    "es",
    "fr",
    "pt",
    "ht",
    "zh",
    "vi",
    "ko",
    "tl",
    "th",
    "ru",
    "uk",
    "ar",
    "hi",
    "pl",
    "ro",
]
REPLIES = load_responses(ROOT / "responses", contract().intents)
PLACEHOLDERS = ("{emergency}", "{crisis}", "{hotline}", "{textline}")
NUMBERS = Numbers()


def raw(language: str) -> dict[str, str]:
    return load_file(ROOT / "responses" / f"{language}.yaml")["replies"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reply_exists_with_the_same_numbers_as_english(language):
    english, texts = raw("en"), raw(language)
    assert set(texts) == set(english), set(english) ^ set(texts)
    for key, text in texts.items():
        for placeholder in PLACEHOLDERS:
            assert (placeholder in text) == (placeholder in english[key]), (
                language,
                key,
                placeholder,
            )
    emergency = texts["emergency"]
    assert emergency.index("{emergency}") < emergency.index("{hotline}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reply_fits_the_sms_budget_of_its_script(language):
    """Two GSM-7 segments (320 characters), or three UCS-2 segments (201) where Unicode is
    needed, after Twilio-style smart encoding."""
    for key in REPLIES["en"]:
        text = smart_encode(reply_text(REPLIES, key, language, NUMBERS))
        budget = 2 if is_gsm7(text) else 3
        assert segments(text) <= budget, (language, key, len(text))


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_each_language_says_how_it_was_reviewed_and_has_a_back_translation(language):
    doc = load_file(ROOT / "responses" / f"{language}.yaml")
    assert len(doc.get("review", "")) > 20
    back = load_file(ROOT / "responses" / "back" / f"{language}.yaml")["replies"]
    assert set(back) == set(doc["replies"])
    english = raw("en")
    # translated back from the reply, not copied from it or from en.yaml
    assert all(" ".join(back[k].split()) != " ".join(doc["replies"][k].split()) for k in back)
    assert sum(" ".join(back[k].split()) == " ".join(english[k].split()) for k in back) < 3


def test_the_docs_say_which_languages_a_native_speaker_reviewed():
    languages = (ROOT / "docs" / "languages.md").read_text(encoding="utf-8")
    assert "native speaker" in languages


# "I need help, my boss took my passport" as people text it, one per language.
FIRST_MESSAGES = {
    "en": "i need help my boss took my passport",
    "es": "necesito ayuda, mi jefe me quitó el pasaporte",
    "fr": "j'ai besoin d'aide, mon patron a pris mon passeport",
    "pt": "preciso de ajuda, meu patrão pegou meu passaporte",
    "ht": "mwen bezwen èd, patwon mwen pran paspò mwen",
    "zh": "我需要帮助，老板拿走了我的护照",
    "vi": "tôi cần giúp đỡ, chủ lấy hộ chiếu của tôi rồi",
    "ko": "도와주세요 사장이 제 여권을 가져갔어요",
    "tl": "kailangan ko ng tulong, kinuha ng amo ko ang pasaporte ko",
    "th": "ช่วยด้วย นายจ้างเอาพาสปอร์ตของฉันไป",
    "ru": "мне нужна помощь, хозяин забрал мой паспорт",
    "uk": "мені потрібна допомога, роботодавець забрав мій паспорт",
    "ar": "أحتاج مساعدة، صاحب العمل أخذ جواز سفري",
    "hi": "मुझे मदद चाहिए, मालिक ने मेरा पासपोर्ट ले लिया",
    "pl": "potrzebuję pomocy, szef zabrał mi paszport",
    "ro": "am nevoie de ajutor, șeful mi-a luat pașaportul",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_language_is_kept_across_the_conversation(send_sms, language):
    first = reply(send_sms(FIRST_MESSAGES[language]))
    assert HOTLINE in first
    help_reply = smart_encode(reply_text(REPLIES, "help", language, NUMBERS))
    assert reply(send_sms("HELP")) == help_reply  # a bare keyword keeps the person's language
    assert reply(send_sms("INFO")) == smart_encode(reply_text(REPLIES, "info", language, NUMBERS))


def test_every_language_file_is_loaded():
    assert set(LANGUAGES) <= set(REPLIES)
    assert Path(ROOT / "responses" / "interpreters" / "lines.yaml").is_file()
