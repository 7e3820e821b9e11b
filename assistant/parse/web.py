"""Parsing: HTML pages -> parts, without the page's navigation, and title and date hints."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, NavigableString
from bs4.element import PreformattedString

from assistant.text import fold, squeeze_spaces

from .parts import FileHints, Part, normalise

_HTML_DROP = [
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "noscript",
    "template",
    "svg",
    "iframe",
    "form",
    "button",
    "head",
]
_HTML_HEADINGS = {"h1", "h2", "h3", "h4"}
_HTML_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "aside",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "address",
    "body",
    "html",
    "h5",
    "h6",
    "center",
    "details",
    "summary",
    "caption",
    "hr",
    "fieldset",
    "legend",
}


def read_html(data: bytes, doc_id: str) -> tuple[list[Part], FileHints]:
    """Headings, paragraphs and list items of a web page (menus, scripts, header and footer dropped);
    its titles (og:title, the first <h1>, <title> without the site's name) and publication date."""
    soup = BeautifulSoup(data, "lxml")
    hints, page_title = _html_hints(soup)
    for element in soup(_HTML_DROP):
        element.decompose()
    h1 = soup.find("h1")  # after the header is dropped: a site's logo is often its <h1>
    hints.titles += [squeeze_spaces(normalise(h1.get_text(" "))) if h1 is not None else "", page_title]

    parts: list[Part] = []
    buffer: list[str] = []
    state: dict[str, Any] = {"kind": "paragraph"}

    def flush() -> None:
        text = squeeze_spaces(normalise("".join(buffer)))
        buffer.clear()
        if text:
            parts.append(Part(state["kind"], [text]))
        state["kind"] = "paragraph"

    def walk(node, in_item: bool = False) -> None:
        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, CDATA
                continue
            if isinstance(child, NavigableString):
                buffer.append(str(child))
                continue
            name = child.name
            if name in _HTML_HEADINGS:
                flush()
                state["kind"] = "heading"
                buffer.append(child.get_text(" "))
                flush()
            elif name == "li":
                flush()
                state["kind"] = "bullet"
                walk(child, in_item=True)
                flush()
            elif name == "br":
                buffer.append(" ")
            elif name in _HTML_BLOCKS and not (in_item and name not in ("ul", "ol", "table")):
                flush()
                walk(child)
                flush()
            else:
                buffer.append(" " if name in _HTML_BLOCKS else "")
                walk(child, in_item)
        return None

    walk(soup)
    flush()
    return parts, hints


_HTML_DATES = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.issued",
    "citation_publication_date",
    "publication_date",
)


def _html_hints(soup) -> tuple[FileHints, str]:
    """og:title and publication dates from the page's metadata, and its <title> without the site's name."""

    def meta(*keys: str) -> list[str]:
        found = []
        for element in soup.find_all("meta"):
            key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
            if key in keys and element.get("content"):
                found.append(squeeze_spaces(normalise(element["content"])))
        return found

    site = (meta("og:site_name", "application-name") or [""])[0]
    page = squeeze_spaces(normalise(soup.title.get_text(" "))) if soup.title else ""
    dates = meta(*_HTML_DATES) + [t["datetime"] for t in soup.find_all("time") if t.get("datetime")][:1]
    canonical = soup.find(
        "link", rel=lambda r: r and "canonical" in [x.lower() for x in (r if isinstance(r, list) else [r])]
    )
    urls = [canonical.get("href", "").strip()] if canonical else []
    urls += [
        e.get("content", "").strip() for e in soup.find_all("meta") if (e.get("property") or "").lower() == "og:url"
    ]
    url = next((u for u in urls if re.match(r"https?://\S+$", u)), None)
    return FileHints(titles=meta("og:title")[:1], dates=dates, url=url), _without_site(page, site)


def _without_site(title: str, site: str) -> str:
    """ "Peru III | MIEUX Initiative" -> "Peru III": a page title minus the site's name."""
    segments = [s for s in re.split(r"\s+[|·•»]\s+", title) if s]
    if site:
        key = fold(site)
        kept = [s for s in segments if fold(s) != key]
        if len(kept) == 1:
            segments = kept
            dashed = re.split(r"\s+[-–—]\s+", kept[0])
            if len(dashed) > 1 and fold(dashed[-1]) == key:
                segments = [" - ".join(dashed[:-1])]
    # Without the site's name, the page's own title comes first in most publishing systems.
    return segments[0] if segments else title
