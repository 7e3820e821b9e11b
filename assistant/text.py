"""Words, shared by every stage: tokens, folding, stop words, stems, BM25 terms and language."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer
from langdetect import DetectorFactory, detector_factory
from langdetect.lang_detect_exception import LangDetectException

from . import resources
from .types import Language

# ---------------------------------------------------------------------------
# Folding: each function names what it removes
# ---------------------------------------------------------------------------

_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"}
_FOLD_TABLE = str.maketrans({**_APOSTROPHES, "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_COMBINING = re.compile(r"[\u0300-\u036f]+")


def expand_ligatures(text: str) -> str:
    """Straight apostrophes and spelled-out ligatures, case and accents kept ("Œuvre’s" -> "Oeuvre's")."""
    return text.translate(_FOLD_TABLE)


def fold(text: str) -> str:
    """Lowercase, strip diacritics, normalise apostrophes: the form both sides of a match share.

    >>> fold("L’Équateur et le Pérou, cœur")
    "l'equateur et le perou, coeur"
    """
    text = unicodedata.normalize("NFKD", text.translate(_FOLD_TABLE))
    return _COMBINING.sub("", text).lower()


def _aligned_table() -> dict[int, str]:
    # One character in, one character out, so offsets in the folded text are offsets in the text.
    table = {ord(k): v for k, v in _APOSTROPHES.items()}
    for block in (range(0xC0, 0x250), range(0x1E00, 0x1F00)):
        for cp in block:
            base = _COMBINING.sub("", unicodedata.normalize("NFKD", chr(cp)))
            if len(base) == 1 and base != chr(cp):
                table[cp] = base
    return table


_ALIGNED = _aligned_table()


def fold_aligned(text: str) -> str:
    """`fold` that keeps every offset: one character in, one out ("Pérou" -> "perou", "œ" stays).

    >>> fold_aligned("Le Pérou")
    'le perou'
    """
    low = text.translate(_ALIGNED).lower()
    if len(low) != len(text):  # a rare character whose lowercase is longer: fold one by one
        low = "".join(c.lower()[:1] or c for c in text.translate(_ALIGNED))
    return low


def lower_unaccented(word: str) -> str:
    """Lowercase without accents, nothing else (apostrophes and ligatures kept): BM25's form.

    >>> lower_unaccented("Été"), lower_unaccented("cœur")
    ('ete', 'cœur')
    """
    word = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in word if not unicodedata.combining(ch))


def squeeze_spaces(text: str) -> str:
    """Runs of white space (line breaks included) as one space, none at the ends."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------

# A run of word characters: what phrase matching compares (tag, glossary, cities).
TOKEN = re.compile(r"\w+")
_LETTERS = "0-9A-Za-zÀ-ÖØ-öø-ÿŒœ"
# A word for retrieval: hyphenated words whole; a "+" that ends a name is part of it: MIEUX+ is not
# MIEUX (nor is C++ C).
WORD = re.compile(rf"[{_LETTERS}]+(?:-[{_LETTERS}]+)*(?:(?<=[^\W\d_])\++(?![{_LETTERS}]))?")


def words(text: str) -> list[str]:
    """Word tokens, with elisions split off ("d'organiser" -> "organiser") and hyphenated words kept whole."""
    text = text.replace("’", "'")
    out = []
    for m in WORD.finditer(text):
        out.append(m.group(0))
    return out


# ---------------------------------------------------------------------------
# Stop words, stems, BM25 terms
# ---------------------------------------------------------------------------

_STEMMERS = {"fr": "french", "en": "english"}


@lru_cache(maxsize=None)
def stopwords(lang: str) -> frozenset[str]:
    """The stop words of `lang` ("fr" or "en"), from resources/stopwords_LANG.txt, unaccented."""
    return frozenset(lower_unaccented(w) for w in resources.word_list(f"stopwords_{lang}.txt"))


@lru_cache(maxsize=4)
def _stemmer(lang: str):
    return snowballstemmer.stemmer(_STEMMERS[lang])


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    """Snowball stem in `lang`, unaccented; a trailing "+" stays ("MIEUX+" is not "MIEUX")."""
    bare = word.rstrip("+")
    return lower_unaccented(_stemmer(lang).stemWord(bare)) + word[len(bare) :]


def analyze(text: str, lang: str) -> list[str]:
    """BM25 terms: lowercased, stop words out, Snowball-stemmed in `lang`, accents folded."""
    stops_fr, stops_en = stopwords("fr"), stopwords("en")
    out = []
    for w in words(text):
        low = w.lower()
        folded = lower_unaccented(low)
        if folded in stops_fr or folded in stops_en or len(folded) < 2:
            continue
        parts = folded.split("-")
        # "a-t-il", "peut-être": hyphenated grammar words carry no topic.
        if len(parts) > 1 and all(len(x) < 3 or x in stops_fr or x in stops_en for x in parts):
            continue
        for part in [low] + (low.split("-") if "-" in low else []):
            if len(part) >= 2 and lower_unaccented(part) not in stops_fr and lower_unaccented(part) not in stops_en:
                out.append(stem(part, lang))
    return out


# ---------------------------------------------------------------------------
# Language
# ---------------------------------------------------------------------------

# The words that tell French from English, and the names of other languages: resources/language.toml.
_LANGUAGE = resources.toml("language.toml")
_FR_WORDS = frozenset(_LANGUAGE["fr"])
_EN_WORDS = frozenset(_LANGUAGE["en"])
_LANGUAGE_NAMES: dict[str, str] = _LANGUAGE["names"]
_factory = None


def language_name(code: str) -> str:
    """The English name of a langdetect code ("es" -> "Spanish"), or the code itself."""
    return _LANGUAGE_NAMES.get(code, code)


def _detector():
    global _factory
    if _factory is None:
        DetectorFactory.seed = 0  # the same text always gets the same answer
        detector_factory.init_factory()
        _factory = detector_factory._factory
    return _factory.create()


def _langdetect(text: str, only_fr_en: bool) -> list[tuple[str, float]]:
    detector = _detector()
    if only_fr_en:
        detector.set_prior_map({"fr": 0.5, "en": 0.5})
    detector.append(text)
    try:
        return [(p.lang, p.prob) for p in detector.get_probabilities()]
    except LangDetectException:
        return []


def detect_language(text: str) -> Language | None:
    """French or English, for a question or a passage; None if the text has no words.

    Short texts are decided by their function words and accents, where n-gram statistics fail.

    >>> detect_language("Et en Jordanie ?"), detect_language("Which countries?")
    ('fr', 'en')
    """
    text = unicodedata.normalize("NFC", text or "").strip()
    if not any(c.isalpha() for c in text):
        return None
    best = None
    if len(text) >= 60:
        ranked = _langdetect(text[:5000], only_fr_en=True)
        if ranked and ranked[0][1] >= 0.9:
            return ranked[0][0]  # type: ignore[return-value]
        best = ranked[0][0] if ranked else None
    fr, en = _word_scores(text)
    if fr != en:
        return "fr" if fr > en else "en"
    if best is None:
        ranked = _langdetect(text, only_fr_en=True)
        best = ranked[0][0] if ranked else None
    return best  # type: ignore[return-value]


def question_language(text: str) -> Language:
    """`detect_language`, English when the text has no words to tell by."""
    return detect_language(text) or "en"


def _word_scores(text: str) -> tuple[float, float]:
    words = re.findall(r"[^\W\d_]+", text.lower())
    fr = float(sum(w in _FR_WORDS for w in words))
    en = float(sum(w in _EN_WORDS for w in words))
    fr += min(sum(c in "éèêàçùâîôûœëï" for c in text.lower()), 4) * 0.5
    fr += 1.0 if re.search(r"\s[?!:;]", text) else 0.0  # French puts a space before ? ! : ;
    fr += 2.0 if re.search(r"-t-(?:il|elle|on)\b|est-ce", text, re.IGNORECASE) else 0.0
    return fr, en


def other_language(text: str, min_words: int = 3, min_probability: float = 0.6, fr_en_share: float = 0.3) -> str | None:
    """The language code of a question that is neither French nor English ("es", "de"…), else None.

    Names are the same in every language, so capitalised words past the first and acronyms are left
    out. n-gram statistics alone call short English questions Indonesian or Dutch, so the question
    must also have few French or English function words among at least `min_words` other words.

    >>> other_language("¿Cómo adaptó Perú su formación?"), other_language("How did Peru adapt its training?")
    ('es', None)
    """
    tokens = re.findall(r"[^\W\d_]+", unicodedata.normalize("NFC", text or ""))
    kept = [w.lower() for i, w in enumerate(tokens) if not w.isupper() and (i == 0 or not w[:1].isupper())]
    if len(kept) < min_words:
        return None
    ranked = _langdetect(" ".join(tokens), only_fr_en=False)
    if not ranked or ranked[0][0] in ("fr", "en") or ranked[0][1] < min_probability:
        return None
    function_words = sum(w in _FR_WORDS or w in _EN_WORDS for w in kept)
    return ranked[0][0] if function_words < fr_en_share * len(kept) else None


def detect_document_language(text: str) -> tuple[str, float]:
    """The most likely language of a document among all langdetect knows, with its probability.

    >>> detect_document_language("El Perú es un país de origen, tránsito y destino de migrantes.")[0]
    'es'
    """
    text = (text or "").strip()
    if len(text) > 9000:  # langdetect reads at most 10,000 characters: sample start, middle and end
        middle = len(text) // 2
        text = " ".join((text[:3000], text[middle - 1500 : middle + 1500], text[-3000:]))
    ranked = _langdetect(text, only_fr_en=False)
    return ranked[0] if ranked else ("unknown", 0.0)
