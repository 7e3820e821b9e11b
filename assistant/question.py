"""The asker's words -> the question the pipeline answers: cleaned, checked, and a follow-up read as
a standalone question. The first stage of a question's path, before retrieval."""

from __future__ import annotations

import re
import unicodedata

from . import prompts, resources, tag
from .errors import BadQuestion
from .text import lower_unaccented, question_language, stopwords, words

# The start of a follow-up ("And in Jordan?", "Et pour le Maroc ?"): resources/question.toml.
_FOLLOW_UP = re.compile(
    r"^\s*(?:"
    + "|".join(re.escape(p) for side in ("en", "fr") for p in resources.toml("question.toml")["follow_up"][side])
    + r")\b",
    re.IGNORECASE,
)


def clean_question(question: str, max_chars: int, lang: str = "en") -> str:
    """The question with control characters removed; BadQuestion with a user message when unusable."""
    if question is None or not str(question).strip():
        raise BadQuestion(prompts.text(lang, "errors.empty"))
    question = str(question)
    if len(question) > max_chars:
        raise BadQuestion(prompts.text(lang, "errors.too_long", n=len(question), limit=max_chars))
    cleaned = "".join(ch if ch.isprintable() or ch in " \t\n" else " " for ch in question)
    cleaned = " ".join(cleaned.split())
    if not any(unicodedata.category(ch)[0] in "LN" for ch in cleaned):
        raise BadQuestion(prompts.text(lang, "errors.no_words"))
    return cleaned


def contextualize(question: str, history: list[tuple[str, str]] | None) -> str:
    """Read a follow-up ("And in Jordan?") as a standalone question, carrying the previous topic."""
    if not history:
        return question
    previous = next((q for q, _ in reversed(history) if q and q.strip()), None)
    if not previous:
        return question
    new_countries = tag.find_countries(question)
    # Words that are neither grammar nor the new country: "Jordan?" has none, "How did Peru adapt…" has two.
    content = [
        w for w in words(question) if len(w) > 2 and lower_unaccented(w) not in _STOP and not tag.find_countries(w)
    ]
    if not (_FOLLOW_UP.match(question) or (new_countries and not content)):
        return question
    old_countries = tag.find_countries(previous)
    if new_countries and old_countries:
        lang = question_language(previous)
        out = previous
        for code in old_countries:
            for name in sorted(
                tag.country_names(code).get("fr", []) + tag.country_names(code).get("en", []), key=len, reverse=True
            ):
                out = re.sub(rf"\b{re.escape(name)}\b", tag.country_label(new_countries[0], lang), out)
        if out != previous:
            return out
    return f"{previous} {question}"


def _stopset():
    return stopwords("fr") | stopwords("en") | {"and", "what", "about", "how", "qu'en", "est-il"}


_STOP = _stopset()
