"""Markdown from a manifest rendered safely: raw HTML is shown as text, links only to http(s) and mailto.

markdown-it-py escapes every text it writes; with `html` off, `<script>` in a description stays visible text,
and a link whose target is not `http:`, `https:` or `mailto:` (e.g. `javascript:`) stays plain text.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

SAFE_SCHEMES = ("http://", "https://", "mailto:")
MAX_CHARS = 100_000  # a description longer than this is cut: a page must stay readable and quick
HEADING_SHIFT = 2  # the page has h1 (title) and h2 (sections)


def safe_url(url: str) -> bool:
    """Whether a URL from a manifest may become a link: absolute http(s) or mailto, nothing else."""
    lowered = url.strip().lower()
    return lowered.startswith(SAFE_SCHEMES) and not any(ord(ch) < 32 for ch in url)


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")  # remote images are blocked by the page's CSP anyway; the alt text stays
    md.validateLink = safe_url  # type: ignore[method-assign]  # markdown-it-py's documented hook
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("heading_open", _heading)
    md.add_render_rule("heading_close", _heading)
    return md


def _link_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """Links leave the registry: no referrer, no ranking credit for whoever wrote the manifest."""
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return str(self.renderToken(tokens, idx, options, env))


def _heading(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """A description's headings sit below the page's own (`#` becomes h3), keeping the outline readable."""
    tokens[idx].tag = f"h{min(int(tokens[idx].tag[1]) + HEADING_SHIFT, 6)}"
    return str(self.renderToken(tokens, idx, options, env))


def render_markdown(text: str) -> Markup:
    """`text` as HTML that cannot run script (safe to insert into a page unescaped)."""
    return Markup(_parser().render(text[:MAX_CHARS]))  # escaped by markdown-it, raw HTML off


def first_line_text(text: str, limit: int = 200) -> str:
    """The first paragraph or heading of Markdown `text` as plain text, cut to `limit` (for result lists)."""
    for token in _parser().parse(text[:4000]):
        if token.type == "inline" and token.children is not None:
            plain = "".join(c.content for c in token.children if c.type in ("text", "code_inline"))
            plain = " ".join(plain.split())
            if plain:
                return plain if len(plain) <= limit else plain[:limit].rstrip() + "…"
    return ""
