"""Script text helpers shared by the speech engines, alignment and captions (pure, no Django).

- `split_sentences` / `chunk_text`: long scripts are synthesised in chunks that end at sentence
  boundaries, so joins fall in the natural pause after a full stop.
- `script_words`: the script's words exactly as written (punctuation kept) with character spans;
  captions show these, never a recogniser's spelling. `has_words_to_speak`: False for a script of
  punctuation, symbols or emoji only, which services refuse.
- `detect_language` / `check_language`: a deliberately small heuristic (writing system first, then
  stop-words for a few Latin-script languages) that refuses obvious mismatches such as Chinese text
  on an English voice. It returns None when unsure, and unsure never refuses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_TERMINALS = (".", "!", "?", "…")
_CLOSERS = "\"'»”’)]"
_WORD = re.compile(r"\S+")


class LanguageMismatch(ValueError):
    """The script is obviously not in the voice's language."""


@dataclass(frozen=True)
class ScriptWord:
    text: str  # exactly as in the script, punctuation kept
    start_char: int
    end_char: int  # exclusive


def split_sentences(text: str) -> list[str]:
    """Sentences with their punctuation (closing quotes included), whitespace-trimmed; CJK full stops split too."""
    sentences: list[str] = []
    for block in re.split(r"(?<=[。！？])", text.strip()):
        start = 0
        for gap in re.finditer(r"\s+", block):
            before = block[start:gap.start()].rstrip(_CLOSERS)
            if before.endswith(_TERMINALS):
                sentences.append(block[start:gap.start()])
                start = gap.end()
        sentences.append(block[start:])
    return [s.strip() for s in sentences if s.strip()]


def _split_long(sentence: str, max_chars: int) -> list[str]:
    # A sentence longer than a chunk: break after commas/semicolons first, then between words.
    pieces: list[str] = []
    current = ""
    for clause in re.split(r"(?<=[,;:，、；])\s*", sentence):
        for word in clause.split(" ") if len(clause) > max_chars else [clause]:
            candidate = f"{current} {word}".strip() if current else word
            if len(candidate) <= max_chars or not current:
                current = candidate
            else:
                pieces.append(current)
                current = word
    if current:
        pieces.append(current)
    # A single word longer than max_chars is kept whole: splitting it would mangle speech.
    return pieces


def chunk_text(text: str, *, max_chars: int) -> list[str]:
    """Group whole sentences into chunks of at most `max_chars` characters (in order)."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    chunks: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        for piece in _split_long(sentence, max_chars) if len(sentence) > max_chars else [sentence]:
            candidate = f"{current} {piece}" if current else piece
            if len(candidate) <= max_chars:
                current = candidate
            else:
                if current:
                    chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


def script_words(text: str) -> list[ScriptWord]:
    """Whitespace-delimited words with their character spans (CJK runs count as one word)."""
    return [ScriptWord(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]


def has_words_to_speak(text: str) -> bool:
    """Whether `text` has a letter or a digit to say: punctuation, symbols and emoji alone have none
    (a script of "...!!!" or "🙂🙂" would make an empty or one-word voiceover)."""
    return any(normalise_token(w.text) for w in script_words(text))


def normalise_token(token: str) -> str:
    """Lower-case letters and digits only (accents folded): the form alignment compares."""
    folded = unicodedata.normalize("NFKD", token.casefold())
    return "".join(ch for ch in folded if ch.isalnum() and not unicodedata.combining(ch))


# --- language -----------------------------------------------------------------------------

_SCRIPT_RANGES: list[tuple[str, int, int]] = [
    ("han", 0x4E00, 0x9FFF),
    ("han", 0x3400, 0x4DBF),
    ("kana", 0x3040, 0x30FF),
    ("hangul", 0xAC00, 0xD7AF),
    ("hangul", 0x1100, 0x11FF),
    ("cyrillic", 0x0400, 0x04FF),
    ("greek", 0x0370, 0x03FF),
    ("arabic", 0x0600, 0x06FF),
    ("hebrew", 0x0590, 0x05FF),
    ("devanagari", 0x0900, 0x097F),
    ("thai", 0x0E00, 0x0E7F),
    ("latin", 0x0041, 0x024F),
]

# Writing system -> languages written in it (ISO 639-1), for the voice side of the check.
_SCRIPT_LANGUAGES: dict[str, set[str]] = {
    "han": {"zh", "cmn", "yue", "ja"},
    "kana": {"ja"},
    "hangul": {"ko"},
    "cyrillic": {"ru", "uk", "bg", "sr", "mk", "be", "kk", "ky", "mn", "tt", "ba", "cv"},
    "greek": {"el", "grc"},
    "arabic": {"ar", "fa", "ur", "ps", "sd", "ug", "ku"},
    "hebrew": {"he", "yi"},
    "devanagari": {"hi", "mr", "ne", "sa", "kok", "mai", "bh"},
    "thai": {"th"},
}

_STOPWORDS: dict[str, set[str]] = {
    "en": {"the", "and", "is", "of", "to", "in", "it", "you", "that", "with", "for", "your", "this", "are", "a", "on"},
    "fr": {"le", "la", "les", "et", "est", "des", "une", "un", "pour", "vous", "dans", "que", "avec", "du", "sur"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ein", "eine", "mit", "für", "sie", "auf", "den", "zu", "ich"},
    "es": {"el", "la", "los", "las", "y", "es", "de", "que", "en", "un", "una", "para", "con", "por", "su"},
    "it": {"il", "la", "e", "è", "di", "che", "un", "una", "per", "con", "non", "sono", "del", "gli", "le"},
    "pt": {"o", "a", "os", "as", "e", "é", "de", "que", "em", "um", "uma", "para", "com", "não", "seu"},
    "nl": {"de", "het", "een", "en", "is", "van", "dat", "niet", "met", "voor", "je", "op", "zijn", "ik", "ze"},
}


def dominant_script(text: str) -> str | None:
    """The writing system of most letters in `text` ('latin', 'han', 'cyrillic', ...), or None."""
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        code = ord(ch)
        for name, low, high in _SCRIPT_RANGES:
            if low <= code <= high:
                counts[name] = counts.get(name, 0) + 1
                break
    if not counts:
        return None
    if counts.get("kana"):
        # Japanese mixes kanji and kana; any kana means Japanese rather than Chinese.
        counts["kana"] = counts.get("kana", 0) + counts.pop("han", 0)
    return max(counts, key=counts.__getitem__)


def detect_language(text: str) -> tuple[str | None, str | None]:
    """(language code or None, writing system or None). Latin needs ≥ 2 stop-word hits to decide."""
    script = dominant_script(text)
    if script is None:
        return None, None
    if script == "han":
        return "zh", script
    if script in {"kana", "hangul", "greek", "hebrew", "thai"}:
        return next(iter(sorted(_SCRIPT_LANGUAGES[script]))) if script != "kana" else "ja", script
    if script != "latin":
        return None, script
    tokens = [normalise_token(t) if t.isascii() else t.casefold().strip(".,;:!?\"'()") for t in text.split()]
    scores = {lang: sum(1 for t in tokens if t in words) for lang, words in _STOPWORDS.items()}
    best = max(scores, key=scores.__getitem__)
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] >= 2 and ranked[0] >= 1.5 * ranked[1] + 1:
        return best, script
    return None, script


def _script_of_language(language: str) -> str:
    subtags = language.lower().replace("_", "-").split("-")
    if "latn" in subtags[1:]:  # a script subtag: written in Latin letters (yue-Latn: Cantonese as Jyutping)
        return "latin"
    base = subtags[0]
    for script, languages in _SCRIPT_LANGUAGES.items():
        if base in languages:
            return "han" if base in {"zh", "cmn", "yue"} else ("kana" if base == "ja" else script)
    return "latin"


def check_language(text: str, *, language: str) -> None:
    """Raise LanguageMismatch when `text` obviously is not in `language` (a voice's language code)."""
    if not language:
        return
    detected, script = detect_language(text)
    if script is None:
        return
    expected_script = _script_of_language(language)
    compatible = script == expected_script or (expected_script == "kana" and script == "han")
    if not compatible:
        raise LanguageMismatch(
            f"The script is written in {script} characters but the voice speaks '{language}'; "
            f"choose a voice for that language."
        )
    base = language.lower().split("-")[0]
    if script == "latin" and detected and base in _STOPWORDS and detected != base:
        raise LanguageMismatch(
            f"The script looks like '{detected}' but the voice speaks '{language}'; choose a matching voice."
        )
