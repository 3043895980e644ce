"""Text as search compares it: folded, so that "senegal" finds "Sénégal", "SÉNÉGAL" and
"Sénégal", and "مدرسة" finds "مَدْرَسَة"; and the words a search found, marked in the text
the reader sees.

Folding happens here, in Python, for what is stored and for what is asked, rather than
with PostgreSQL's ``unaccent``: one rule for both databases (SQLite has no ``unaccent``)
and for the four languages (``unaccent`` leaves Arabic's short vowels and tatweel).
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

#: Arabic letters written in more than one way, read as one: alef maqsura as yeh, teh
#: marbuta as heh; and the tatweel, which only stretches a word, dropped.
_ARABIC = str.maketrans({"ى": "ي", "ة": "ه", "ـ": None})

#: A word of the folded text: letters and digits of any script.
_WORD = re.compile(r"\w+")


def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.casefold().translate(_ARABIC)


def fold(text: str) -> str:
    """``text`` without accents, diacritics or case (the same as folding each character,
    as ``_fold_char`` does for marking, but at the speed of whole-string operations)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.casefold().translate(_ARABIC)


def searchable(text: str) -> str:
    """What the index keeps of ``text``: its folded words, one space apart, so that both
    databases' tokenizers cut it where search does ("SN-2026-0012" is "sn 2026 0012")."""
    return " ".join(_WORD.findall(fold(text)))


def words(query: str, most: int = 8) -> list[str]:
    """The words of a search, folded, in order, without repeats (at most ``most``)."""
    return list(dict.fromkeys(_WORD.findall(fold(query))))[:most]


def _folded_with_origins(text: str) -> tuple[str, list[int]]:
    """The folded text, and for each of its characters the index in ``text`` it came
    from: a match found in the folded text is marked on the original one."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    folded, origins = [], []
    for index, char in enumerate(text):
        piece = _fold_char(char)
        folded.append(piece)
        origins.extend([index] * len(piece))
    return "".join(folded), origins


def _spans(text: str, found: list[str]) -> list[tuple[int, int]]:
    """Where in ``text`` a word begins with one of the folded ``found`` words."""
    if not found or not text:
        return []
    folded, origins = _folded_with_origins(text)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, found)) + ")")
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(folded):
        start, end = origins[match.start()], origins[match.end() - 1] + 1
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def marked(text: str, found: list[str]) -> Markup:
    """``text`` escaped, with each word a search found in ``<mark>``."""
    out, at = [], 0
    for start, end in _spans(text, found):
        out.append(escape(text[at:start]))
        out.append(Markup("<mark>%s</mark>") % text[start:end])
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def excerpt(text: str, found: list[str], width: int = 180) -> Markup:
    """About ``width`` characters of ``text`` around the first word found, marked; the
    beginning of the text when none is in it."""
    text = " ".join(text.split())
    spans = _spans(text, found)
    if len(text) <= width:
        return marked(text, found)
    start = max(0, spans[0][0] - width // 3) if spans else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[0][0] else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    piece = marked(text[start:end], found)
    return Markup("%s%s%s") % ("… " if start else "", piece, " …" if end < len(text) else "")
