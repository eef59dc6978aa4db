"""The plain-text part of a mail, from its HTML: what a mail client without HTML (or a screen
reader, or a filter) shows. Paragraphs and list items on their own lines, links with their
address, entities decoded. No Airflow import."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BREAK_BEFORE = {"p", "div", "br", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "li"}
_SKIPPED = {"style", "script", "head", "title"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag in _BREAK_BEFORE:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in ("p", "ul", "ol", "table"):
            self.parts.append("\n")
        elif tag == "a" and self.href:
            self.parts.append(f" ({self.href})")
            self.href = None

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def plain_text(html_content: str) -> str:
    parser = _Text()
    parser.feed(html_content)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
