"""The language a message is read in: ISO 639-1 codes by script and sentence vector; the
conversation as prior for short texts."""

import pytest

from bot.triage.classify import default_classifier

SENTENCES = {
    "en": "my manager keeps my wages and says I owe him for the flight",
    "es": "mi patrón se quedó con mis papeles y no me paga",
    "fr": "mon employeur garde mes papiers et ne me paie pas",
    "pt": "meu patrão ficou com meus documentos e não me paga",
    "de": "mein Arbeitgeber hat meinen Pass und zahlt mir nichts",
    "it": "il mio capo mi ha preso il passaporto e non mi paga",
    "ro": "șeful meu mi-a luat pașaportul și nu mă plătește",
    "pl": "mój szef zabrał mi paszport i nie płaci mi",
    "ru": "мой начальник забрал мой паспорт и не платит",
    "uk": "мій начальник забрав мій паспорт і не платить",
    "zh": "我的老板拿走了我的护照，不给我工资",
    "vi": "ông chủ giữ hộ chiếu của tôi và không trả lương",
    "tl": "kinuha ng amo ko ang passport ko at hindi ako binabayaran",
    "ar": "صاحب العمل أخذ جواز سفري ولا يدفع لي",
    "hi": "मेरे मालिक ने मेरा पासपोर्ट ले लिया और पैसे नहीं देता",
    "ht": "patwon mwen pran paspò mwen epi li pa peye mwen",
    "sw": "bosi wangu amechukua pasipoti yangu na hanilipi",
    "ko": "사장님이 제 여권을 가져가고 월급을 안 줘요",
    "th": "นายจ้างยึดพาสปอร์ตของฉันและไม่จ่ายเงิน",
    "am": "አሠሪዬ ፓስፖርቴን ወስዶ ደመወዝ አይከፍለኝም",
    "my": "အလုပ်ရှင်က ကျွန်မရဲ့ ပတ်စပို့ကို ယူထားပြီး လစာမပေးဘူး",
    "km": "ថៅកែយកលិខិតឆ្លងដែនរបស់ខ្ញុំ ហើយមិនបើកប្រាក់ខែ",
    "bn": "আমার মালিক আমার পাসপোর্ট নিয়ে নিয়েছে আর বেতন দেয় না",
    "ne": "मेरो मालिकले मेरो राहदानी लियो र मलाई तलब दिँदैन",
    "ur": "میرے مالک نے میرا پاسپورٹ لے لیا اور تنخواہ نہیں دیتا",
    "fa": "کارفرمایم پاسپورتم را گرفته و حقوقم را نمی دهد",
    "id": "majikan saya mengambil paspor saya dan tidak membayar gaji",
    "tr": "patronum pasaportumu aldi ve bana maas odemiyor",
}


KNOWN_MISSES = {
    "ne": "Nepali in Devanagari is read as Hindi",
}


@pytest.mark.parametrize(
    ("code", "text"),
    [
        pytest.param(code, text, marks=pytest.mark.xfail(reason=KNOWN_MISSES[code], strict=True))
        if code in KNOWN_MISSES
        else (code, text)
        for code, text in SENTENCES.items()
    ],
)
def test_classifier_reports_the_language(code: str, text: str) -> None:
    result = default_classifier().classify(text)
    assert result.language == code
    assert result.intent == "help", result


@pytest.mark.parametrize("keyword", ["HELP", "INFO", "STOP", "start"])
def test_bare_keyword_takes_the_conversation_language(keyword: str) -> None:
    clf = default_classifier()
    assert clf.classify(keyword).language == "en"
    assert clf.classify(keyword, conversation_language="es").language == "es"
    assert clf.classify(keyword, conversation_language="fr").language == "fr"


def test_short_ambiguous_text_leans_on_the_conversation() -> None:
    clf = default_classifier()
    assert clf.classify("ok gracias", conversation_language="es").language == "es"
    assert clf.classify("okay").language == "en"


def test_language_names_switch() -> None:
    clf = default_classifier()
    for text, target, lang in [
        ("ESPAÑOL", "es", "es"),
        ("english", "en", "en"),
        ("en français svp", "fr", "fr"),
        ("russian please", "ru", "en"),
    ]:
        result = clf.classify(text)
        assert (result.intent, result.switch_to, result.language) == ("language", target, lang)


def test_a_new_language_name_needs_data_files_only(tmp_path):
    """A language name added to a copy of intents/language.yaml switches to that language."""
    import shutil

    from bot.triage.classify import load_classifier
    from bot.triage.keywords import INTENTS_DIR

    data = tmp_path / "intents"
    shutil.copytree(INTENTS_DIR, data)
    names = data / "language.yaml"
    text = names.read_text(encoding="utf-8")
    text = text.replace("names:\n", "names:\n  bn: {bn: [বাংলা], en: [bengali, bangla]}\n", 1)
    names.write_text(text, encoding="utf-8")
    clf = load_classifier(data)
    assert (clf.classify("বাংলা").intent, clf.classify("বাংলা").switch_to) == ("language", "bn")
    assert clf.classify("bangla please").switch_to == "bn"
    assert default_classifier().classify("bangla please").switch_to is None


def test_bengali_help_is_understood_without_any_rule() -> None:
    result = default_classifier().classify("দয়া করে, আমার সাহায্য দরকার")
    assert (result.intent, result.language) == ("help", "bn")
