"""Every relative link in the README and docs/ leads somewhere: the file exists and an #anchor
names a heading of it (GitHub's slugs), so moving a section cannot leave a dead link."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md")])

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
HTML_ID = re.compile(r"""<a\s+(?:name|id)=["']([^"']+)["']""")
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.I)


def prose_lines(text: str):
    """The lines outside fenced and indented code blocks."""
    in_fence = False
    previous_blank = True
    in_indented = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        blank = not line.strip()
        if line.startswith("    ") and not blank and (previous_blank or in_indented):
            in_indented = True
            continue
        if not blank:
            in_indented = False
        previous_blank = blank
        yield line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text as shown, lower case, punctuation dropped,
    spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    text = path.read_text(encoding="utf-8")
    for line in prose_lines(text):
        m = HEADING.match(line)
        if m:
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        found.update(HTML_ID.findall(line))
    return found


def links(path: Path) -> list[str]:
    prose = [CODE_SPAN.sub("", line) for line in prose_lines(path.read_text(encoding="utf-8"))]
    found = INLINE_LINK.findall("\n".join(prose))  # link text may wrap onto the next line
    found += [m.group(1) for m in map(REFERENCE.match, prose) if m]
    return [t for t in found if t and not EXTERNAL.match(t)]


def test_the_slugs_are_githubs():
    assert slug("Load and faults (measured)") == "load-and-faults-measured"
    assert slug("When Redis is down, hung or damaged") == "when-redis-is-down-hung-or-damaged"
    assert slug("Reading `python -m bot eval`") == "reading-python--m-bot-eval"
    assert slug("Triage: how messages are classified") == "triage-how-messages-are-classified"


def test_links_in_code_are_not_links():
    text = "see `[a](nowhere.md)`\n\n    [b](nowhere.md)\n\n```\n[c](nowhere.md)\n```\n[d](x.md)\n"
    found = []
    for line in prose_lines(text):
        found += INLINE_LINK.findall(CODE_SPAN.sub("", line))
    assert found == ["x.md"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc):
    dead = []
    for target in links(doc):
        path_part, _, anchor = target.partition("#")
        dest = (doc.parent / unquote(path_part)).resolve() if path_part else doc
        if not dest.exists():
            dead.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and unquote(anchor) not in anchors(dest):
            dead.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not dead, f"{doc.relative_to(ROOT)}: " + "; ".join(dead)


def test_the_readme_links_every_page_of_docs():
    linked = {
        (ROOT / unquote(t.partition("#")[0])).resolve()
        for t in links(ROOT / "README.md")
        if t.partition("#")[0]
    }
    missing = [p.name for p in (ROOT / "docs").glob("*.md") if p.resolve() not in linked]
    assert not missing, f"README.md does not link docs/{missing}"
