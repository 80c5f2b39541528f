"""normalise(): the one canonical form every matcher sees."""

from bot.normalise import MAX_CHARS, normalise


def test_case_accents_and_punctuation() -> None:
    assert normalise("¿AYÚDAME, POR FAVOR?!") == "ayudame por favor"
    assert normalise("Arrêtez!!!") == "arretez"


def test_repeated_letters_collapse() -> None:
    assert normalise("HEEEELP") == "help"
    assert normalise("pleeeease") == "please"


def test_txt_speak_and_contractions() -> None:
    assert normalise("plz help me u r my only hope") == "please help me you are my only hope"
    assert normalise("I'm scared, he won't let me go") == "i am scared he will not let me go"
    assert normalise("idk what to do") == "i do not know what to do"


def test_emoji_become_words_or_vanish() -> None:
    assert normalise("🆘🆘") == "sos sos"
    assert normalise("he has a 🔪") == "he has a knife"
    assert normalise("ok 😭😭") == "ok"


def test_non_latin_scripts_keep_their_marks() -> None:
    assert normalise("मुझे मदद चाहिए") == "मुझे मदद चाहिए"
    assert normalise("Я НЕ МОГУ УЙТИ") == "я не могу уйти"
    assert normalise("救命！") == "救命"


def test_fullwidth_is_folded() -> None:
    assert normalise("ＨＥＬＰ") == "help"


def test_empty_and_very_long_bodies() -> None:
    assert normalise("") == ""
    assert normalise("   ...  ") == ""
    long = normalise("help " * 5000)
    assert len(long) <= MAX_CHARS
