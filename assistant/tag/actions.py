"""Tagging: years, and actions (MIEUX actions, Global Compact objectives and actions, national plans)."""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.types import Action

from .countries import country_hits, country_label, find_countries
from .match import Doc

YEAR_MIN, YEAR_MAX = 1990, 2039
GCM_OBJECTIVES = 23  # the Global Compact for Migration has 23 objectives


# ---------------------------------------------------------------------------
# Years
# ---------------------------------------------------------------------------

_YEAR = re.compile(r"(?<![\d.,/])((?:19|20)\d\d)(?:\s*[-–—/]\s*((?:19|20)\d\d|\d\d))?(?![\d])")
_MAX_RANGE = 15  # longer spans are periods of reference ("1990-2030"), not activity years


def find_years(text: str) -> tuple[int, ...]:
    """Years 1990-2039 in order of first mention; a range "2017-2018" gives every year in it.

    >>> find_years("Pérou (2017-2018), plan 2019-21")
    (2017, 2018, 2019, 2020, 2021)
    """
    years: dict[int, None] = {}
    for m in _YEAR.finditer(text):
        first = int(m.group(1))
        last = first
        if m.group(2):
            second = m.group(2)
            last = int(second) if len(second) == 4 else first - first % 100 + int(second)
        if not YEAR_MIN <= first <= YEAR_MAX:
            continue
        if first < last <= YEAR_MAX and last - first <= _MAX_RANGE:
            years.update(dict.fromkeys(range(first, last + 1)))
        else:
            years[first] = None
            if YEAR_MIN <= last <= YEAR_MAX and m.group(2) and len(m.group(2)) == 4:
                years[last] = None
    return tuple(years)


# ---------------------------------------------------------------------------
# Actions: MIEUX actions, Global Compact objectives and actions, national plans
# ---------------------------------------------------------------------------

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
_ROMAN_AFTER = re.compile(r"[ \t\u00a0]+(X|IX|IV|V?I{1,3}|V)(?![\w'’])")
# "Peru I met the minister" is the pronoun, not the first action
_PRONOUN_VERBS = re.compile(
    r"\s+(?:am|was|have|had|think|believe|would|will|can|could|met|saw|want|hope|must|did|do|went|feel)\b"
)
_YEARS_AFTER = re.compile(r"\s*\(\s*((?:19|20)\d\d)\s*[-–—]\s*((?:19|20)\d\d)\s*\)")
_IBERRED = re.compile(r"\biberred\b")

_OBJECTIVE = re.compile(r"\bobjecti(?:ve|f)s?\s*(?:n[o°]\.?\s*)?(\d{1,2})(?!\d|\s*%|[.,]\d)")
_LETTER_AFTER = re.compile(r"\bactions?\s*(?:\(\s*([a-l])\s*\)|([a-l])\s*\)|([b-l])(?![\w'])|(a)(?=\s*(?:[,.;:]|$)))")
_ACTION_OF_OBJECTIVE = re.compile(
    r"\baction\s*\(?([a-l])\)?\s*,?\s+(?:of|under|from|de|du|in|dans)\s+(?:the\s+|l'|la\s+)?"
    r"(?:gcm\s+|pmm\s+)?objecti(?:ve|f)\s*(\d{1,2})(?!\d)"
)
# Not blank lines: PDF extractions put one between every line of a paragraph.
_SENTENCE_END = re.compile(r"\.\s|;|$")

_PLAN = re.compile(
    r"\b(?:(?P<national>national\s+action\s+plans?|plans?\s+d'action\s+(?:\w+\s+)?nationa(?:l|ux)"
    r"|plans?\s+nationa(?:l|ux)(?:\s+d'action)?)"
    r"|(?P<work>work\s*plans?|plans?\s+de\s+travail)"
    r"|(?P<action>action\s+plans?|plans?\s+d'action))\b"
)
_PLAN_OWNER_AFTER = re.compile(
    r"\s+(?:de\s+l'|de\s+la\s+|du\s+|of\s+the\s+|d'|de\s+)?"
    r"(?:(ue|eu)|(cedeao|ecowas)|(la\s+valette|valletta)|(rabat))\b"
)
_PLAN_OWNER_BEFORE = re.compile(r"\b(?:(eu)|(ecowas)|(joint\s+valletta|valletta)|(rabat))\s+$")
_OWNER_NAMES = ("EU Action Plan", "ECOWAS Action Plan", "Valletta Action Plan", "Rabat Action Plan")
_SUBJECTS = (  # (regex on the folded text after "plan", canonical subject), first hit wins
    (re.compile(r"trafic\s+(?:illicite|de\s+migrants|des\s+migrants)|smuggling|passeurs"), "migrant smuggling"),
    (re.compile(r"\btraite\b|\btp\b|\bteh\b|\bthb\b|trafficking|etres\s+humains"), "THB"),
    (re.compile(r"integration"), "integration"),
    (re.compile(r"migration|migratoire"), "migration"),
)
_RANGE = re.compile(r"((?:19|20)\d\d)\s*[-–—]\s*((?:19|20)\d\d)")


def gcm_action(objective: int, letter: str | None = None) -> Action:
    """The Global Compact for Migration objective (and action letter) as an Action.

    >>> gcm_action(9, "b").name
    'GCM Objective 9, action b'
    """
    if not 1 <= int(objective) <= GCM_OBJECTIVES:
        raise ValueError(f"GCM objective {objective!r} does not exist: the Compact has objectives 1 to 23")
    name = f"GCM Objective {int(objective)}"
    if letter:
        if not re.fullmatch(r"[a-zA-Z]", letter):
            raise ValueError(f"GCM action letter {letter!r} is not a single letter such as 'b'")
        name += f", action {letter.lower()}"
    return Action(name=name, kind="gcm")


def _mieux_context(doc: Doc, doc_title: str | None) -> bool:
    # "mieux" is also the French word for "better": only the capitalised acronym counts
    return "MIEUX" in doc.text or bool(doc_title and "MIEUX" in doc_title)


def _mieux_actions(doc: Doc, hits, doc_title: str | None) -> list[tuple[int, Action]]:
    out = []
    context = None
    for s, e, code, kind in hits:
        if kind == "demonym":
            continue
        start, end = doc.start(s), doc.end(e - 1)
        label = country_label(code, "en")
        m = _ROMAN_AFTER.match(doc.text, end)
        pronoun = m is not None and m.group(1) == "I" and _PRONOUN_VERBS.match(doc.text, m.end())
        if m and m.group(1) in _ROMAN and not pronoun:
            out.append((start, Action(name=f"MIEUX {label} {m.group(1)}", kind="mieux", countries=(code,))))
            continue
        m = _YEARS_AFTER.match(doc.text, end)
        if m and int(m.group(1)) < int(m.group(2)):
            if context is None:
                context = _mieux_context(doc, doc_title)
            # "Pérou (2017-2018)" names an action; "le Plan national du Costa Rica (2018-2022)" does not
            before = doc.text[max(0, start - 12) : start].rstrip(" \t\u00a0")
            headed = before == "" or before[-1] in ",:;–—-(\n" or before.endswith(("MIEUX", "Action", "action"))
            if context and headed:
                years = f"{m.group(1)}-{m.group(2)}"
                out.append(
                    (start, Action(name=f"MIEUX {label} ({years})", kind="mieux", countries=(code,), years=years))
                )
    if "iberred" in doc.lower:
        for m in _IBERRED.finditer(doc.low):
            out.append((m.start(), Action(name="MIEUX IberRed", kind="mieux")))
    return out


def _gcm_actions(doc: Doc) -> list[tuple[int, Action]]:
    if "objecti" not in doc.lower:
        return []
    out = []
    low = doc.low
    for m in _OBJECTIVE.finditer(low):
        objective = int(m.group(1))
        if not 1 <= objective <= GCM_OBJECTIVES:
            continue
        stop = _SENTENCE_END.search(low, m.end())
        window_end = min(stop.start() if stop else len(low), m.end() + 80)
        letter = _LETTER_AFTER.search(low, m.end(), window_end)
        # "Objective 9 ... actions a–d" names the objective, not one action
        chosen = next((g for g in letter.groups() if g), None) if letter else None
        if chosen and letter and _OBJECTIVE.search(low, m.end(), letter.start()):
            chosen = None  # the letter belongs to a later objective
        out.append((m.start(), gcm_action(objective, chosen)))
    for m in _ACTION_OF_OBJECTIVE.finditer(low):
        objective = int(m.group(2))
        if 1 <= objective <= GCM_OBJECTIVES:
            out.append((m.start(), gcm_action(objective, m.group(1))))
    return out


def _plan_actions(doc: Doc, hits, doc_title: str | None) -> list[tuple[int, Action]]:
    if "plan" not in doc.lower:
        return []
    low = doc.low
    out = []
    for m in _PLAN.finditer(low):
        stop = _SENTENCE_END.search(low, m.end())
        tail = low[m.end() : min(stop.start() if stop else len(low), m.end() + 100)]
        subject = next((name for rx, name in _SUBJECTS if rx.search(tail)), None)
        span = _RANGE.search(tail)
        years = f"{span.group(1)}-{span.group(2)}" if span else None
        owner_after = _PLAN_OWNER_AFTER.match(low, m.end())
        owner_before = _PLAN_OWNER_BEFORE.search(low, max(0, m.start() - 20), m.start())
        owner = owner_after or owner_before
        national = m.group("national") or re.search(r"\bnational", low[max(0, m.start() - 25) : m.start()])
        if owner:
            which = next(i for i, g in enumerate(owner.groups()) if g)
            name = _OWNER_NAMES[which]
            if subject in ("THB", "migrant smuggling") and which in (0, 1):
                name += f" against {subject}"
            out.append((m.start(), Action(name=name, kind="plan", years=years)))
        elif national:
            named = _country_in(doc, hits, m.end(), m.end() + len(tail))
            if subject is None and named is None:
                continue  # "national policies and Action Plans": whose, on what?
            code = named or _plan_country(doc, hits, m, doc_title)
            if subject in ("THB", "migrant smuggling"):
                name = f"National Action Plan against {subject}"
            elif subject == "integration":
                name = "National Integration Plan"
            elif subject == "migration":
                name = "National Action Plan on migration"
            else:
                name = "National Action Plan"
            if code:
                name += f" ({country_label(code, 'en')})"
            out.append((m.start(), Action(name=name, kind="plan", countries=(code,) if code else (), years=years)))
        elif m.group("work") and subject in ("THB", "migrant smuggling"):
            name = f"Work plan against {subject}" + (f" {years}" if years else "")
            out.append((m.start(), Action(name=name, kind="plan", years=years)))
    return out


def _country_in(doc: Doc, hits, start: int, end: int) -> str | None:
    return next((code for s, _, code, _ in hits if start <= doc.start(s) < end), None)


def _plan_country(doc: Doc, hits, m: re.Match, doc_title: str | None) -> str | None:
    """Whose national plan: the document's country, else the nearest one named before it."""
    if doc_title:
        title_codes = find_countries(doc_title, demonyms=False)
        if title_codes:
            return title_codes[0]
    before = [code for s, _, code, _ in hits if doc.start(s) < m.start()]
    if before:
        return before[-1]
    return hits[0][2] if hits else None


def doc_actions(doc: Doc, hits, doc_title: str | None) -> tuple[Action, ...]:
    found = _mieux_actions(doc, hits, doc_title) + _gcm_actions(doc) + _plan_actions(doc, hits, doc_title)
    found.sort(key=lambda pair: pair[0])
    actions = list(dict.fromkeys(action for _, action in found))
    # The bare name adds nothing next to the precise one: "GCM Objective 9" beside
    # "GCM Objective 9, action c", "ECOWAS Action Plan" beside "ECOWAS Action Plan against THB".
    precise = [a.name for a in actions if a.kind in ("gcm", "plan")]

    def vague(a: Action) -> bool:
        return a.kind in ("gcm", "plan") and any(n.startswith((a.name + " ", a.name + ",")) for n in precise)

    return tuple(a for a in actions if not vague(a))


def find_actions(text: str, doc_title: str | None = None) -> tuple[Action, ...]:
    """MIEUX actions, GCM objectives/actions and national plans a text names, in order.

    `doc_title` gives context a passage lacks: whether the document is about MIEUX, and
    whose national plan "le Plan d'action national" is.

    >>> [a.name for a in find_actions("Pérou III et l'Objectif 9, action b")]
    ['MIEUX Peru III', 'GCM Objective 9, action b']
    """
    doc = Doc(text)
    return doc_actions(doc, country_hits(doc, demonyms=False), doc_title)


def _title_years(title: str) -> str | None:
    years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", title)]
    if len(years) >= 2 and min(years) < max(years):
        return f"{min(years)}-{max(years)}"
    return None


def document_action(title: str, text: str) -> Action | None:
    """The action a whole document is about, read from its title (years too), else None.

    >>> document_action("MIEUX Action: Peru I – THB (July 2012 - August 2016)", "")
    Action(name='MIEUX Peru I', kind='mieux', countries=('PE',), years='2012-2016')
    """
    actions = find_actions(title, doc_title=title)
    for kind in ("mieux", "gcm", "plan"):
        chosen = next((a for a in actions if a.kind == kind), None)
        if chosen is not None:
            if chosen.kind == "mieux" and chosen.years is None:
                chosen = replace(chosen, years=_title_years(title))
            return chosen
    # A title such as "MIEUX Case studies – ... (Peru)": the text may name the action
    countries = find_countries(title, demonyms=False)
    if "MIEUX" in title and len(countries) == 1 and text:
        for action in find_actions(text, doc_title=title):
            if action.kind == "mieux" and action.countries == countries:
                return action
    return None
