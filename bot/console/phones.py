"""Phone numbers inside message texts, as `tel:` links: one function for pages and live JSON."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# A run of 7 to 15 digits, optionally after '+', with single spaces, dots, hyphens or
# parentheses between them ("1-888-373-7888", "+1 (555) 000 1234", "233733" is too short).
_CANDIDATE = re.compile(r"(?<![\w+/=@.-])\+?\(?\d(?:[ .\-()]{0,2}\d){6,14}(?![\w@/-])")
# Dates (2024-05-01, 1.5.2024) and amounts (1.000.000) are not numbers to call.
_NOT_PHONE = re.compile(
    r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{1,3}(?:\.\d{3})+"
)


def _number(candidate: str) -> str | None:
    """The dialable form (`+` and digits) of a candidate, or None if it is not a phone number."""
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15 or _NOT_PHONE.fullmatch(candidate):
        return None
    return ("+" if candidate.startswith("+") else "") + digits


def parts(text: str) -> list[list[str]]:
    """`text` cut into ["text", piece] and ["tel", shown, dialable] parts, in order."""
    out: list[list[str]] = []
    last = 0
    for match in _CANDIDATE.finditer(text or ""):
        dial = _number(match[0])
        if dial is None:
            continue
        if match.start() > last:
            out.append(["text", text[last : match.start()]])
        out.append(["tel", match[0], dial])
        last = match.end()
    if last < len(text or ""):
        out.append(["text", text[last:]])
    return out


def tel_links(text: str) -> Markup:
    """`text` escaped, its phone numbers as `tel:` links (class `tel`: they never wrap)."""
    html = []
    for part in parts(text):
        if part[0] == "tel":
            html.append(Markup('<a class="tel" href="tel:{}">{}</a>').format(part[2], part[1]))
        else:
            html.append(escape(part[1]))
    return Markup("").join(html)
