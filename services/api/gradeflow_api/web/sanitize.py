"""Render notebooks and their outputs as HTML that is safe in a browser (students and TAs alike).

Everything a notebook carries is the student's: HTML outputs are cleaned with
nh3 (no scripts, no event handlers, no javascript: URLs, no styles that can
overlay the page); SVG and images are shown only as <img> data URLs (an SVG in
an <img> cannot run script); JavaScript outputs are dropped.
"""
from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Callable

import nbformat
import nh3
from markdown_it import MarkdownIt

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "samp",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul",
}
_ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "td": {"colspan", "rowspan"},
                  "th": {"colspan", "rowspan"}, "*": {"class"}}
_URL_SCHEMES = {"http", "https", "mailto", "data"}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|svg\+xml);base64,[A-Za-z0-9+/=\s]+$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
Markdown = Callable[[str], str]  # markdown text -> safe HTML


def _filter_attr(element: str, attribute: str, value: str) -> str | None:
    if attribute == "src" and not _DATA_IMAGE.match(value):
        return None  # no remote or script sources: only embedded images
    if attribute == "href" and value.lower().startswith("data:"):
        return None
    return value


def clean_html(fragment: str) -> str:
    """Strip everything that could run or restyle the page."""
    return nh3.clean(fragment, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS, url_schemes=_URL_SCHEMES,
                     attribute_filter=_filter_attr, link_rel="noopener noreferrer nofollow", strip_comments=True)


def render_markdown(text: str) -> str:
    """Markdown (a README or a markdown cell) to clean HTML; $...$ formulas are left for the page's math renderer."""
    return clean_html(_markdown.render(text))


_HEADING_TAG = re.compile(r"<(/?)h([1-6])(?=[\s>])")


def demote_headings(fragment: str, *, below: int) -> str:
    """A rendered document's headings moved under the page's own `below` levels: its top heading becomes
    h{below + 1} (a notebook's h1 is h3 under a page's h1 and h2), the others keep their steps, capped at h6.

    `fragment` is sanitised HTML, where a `<` in text is always `&lt;`: only real tags match."""
    levels = [int(level) for _, level in _HEADING_TAG.findall(fragment)]
    shift = below + 1 - min(levels, default=below + 1)
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{max(1, min(6, int(m.group(2)) + shift))}", fragment)


def _image(mime: str, data: str) -> str:
    payload = data if mime != "image/svg+xml" else base64.b64encode(data.encode()).decode()
    try:
        base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return ""
    return f'<img alt="output image" src="data:{mime};base64,{payload.strip()}">'


def render_output(output: dict, *, markdown: Markdown = render_markdown) -> str:
    """One cell output as safe HTML; the richest safe representation wins."""
    kind = output.get("output_type")
    if kind == "stream":
        return f'<pre class="stream {html.escape(output.get("name", ""))}">{html.escape(str(output.get("text", "")))}</pre>'
    if kind == "error":
        text = "\n".join(output.get("traceback", [])) or f"{output.get('ename')}: {output.get('evalue')}"
        return f'<pre class="error">{html.escape(_ANSI.sub("", text))}</pre>'
    data = output.get("data", {})
    for mime in _IMAGE_TYPES:
        if mime in data:
            value = data[mime]
            return _image(mime, "".join(value) if isinstance(value, list) else str(value))
    if "text/html" in data:
        value = data["text/html"]
        return f'<div class="html-output">{clean_html("".join(value) if isinstance(value, list) else str(value))}</div>'
    if "text/markdown" in data:
        return f'<div class="md-output">{markdown(str(data["text/markdown"]))}</div>'
    if "text/plain" in data:
        value = data["text/plain"]
        return f"<pre>{html.escape(''.join(value) if isinstance(value, list) else str(value))}</pre>"
    return ""  # application/javascript and unknown types are never shown


def render_notebook(source: str, *, markdown: Markdown = render_markdown) -> str:
    """A whole notebook as safe HTML: markdown cells rendered, code escaped, outputs cleaned.

    `markdown` turns a markdown cell into safe HTML; the web pages pass one that also renders formulas."""
    notebook = nbformat.reads(source, as_version=4)
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(f'<div class="cell markdown">{markdown(cell.source)}</div>')
        elif cell.cell_type == "code":
            outputs = "".join(render_output(o, markdown=markdown) for o in cell.get("outputs", []))
            parts.append(f'<div class="cell code"><pre class="source">{html.escape(cell.source)}</pre>'
                         f'<div class="outputs">{outputs}</div></div>')
    return "\n".join(parts)
