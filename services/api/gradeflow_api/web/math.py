"""Formulas in statements and notebooks: `$...$` and `$$...$$` become MathML, which browsers render natively.

latex2mathml does the TeX (\\mathbb, \\mathcal, \\operatorname, matrices, cases, aligned...); this module finds
the formulas, guards the converter (size, nesting, no macro definitions) and writes its element tree out
through an allow-list of MathML elements and attributes, every text escaped: latex2mathml itself copies
`\\text{<script>}`, `\\href{javascript:...}`, `\\style` and `\\class` straight into its output, so its string
is never used. The result then goes through nh3 with the same allow-list. A formula that cannot be converted
is shown as its TeX, escaped, in <code class="math">; the TeX also rides along in an <annotation>.
"""
from __future__ import annotations

import functools
import html
import re
import secrets
from collections.abc import Callable
from xml.etree.ElementTree import Element

import nh3
from latex2mathml.converter import convert_to_element

from gradeflow_api.web.sanitize import render_markdown

MAX_FORMULA_CHARS = 4_000  # one formula; a longer one is shown as TeX
MAX_DOCUMENT_CHARS = 100_000  # all formulas of one README or notebook (about 2 s of converting); the rest as TeX
FORMULA_OVERHEAD = 50  # what one formula costs beyond its length: 2,000 one-letter formulas spend the budget
MAX_BRACE_DEPTH = 40  # TeX nesting; latex2mathml recurses per level
MAX_ELEMENT_DEPTH = 120
MAX_ELEMENTS = 6_000

_LENGTH = (r"[+-]?(?:\d{1,2}(?:\.\d{1,4})?|\.\d{1,4})(?:em|ex|pt|px|mu|width|%)?"
           r"|(?:negative)?(?:very){0,2}(?:thin|medium|thick)mathspace")
_BOOLEAN = r"true|false"
_ATTRIBUTES = {  # attribute -> the values it may have (a full match); anything else is dropped
    "display": "block|inline", "encoding": r"application/x-tex", "mathvariant": r"[a-z-]{1,30}",
    "stretchy": _BOOLEAN, "fence": _BOOLEAN, "accent": _BOOLEAN, "accentunder": _BOOLEAN, "separator": _BOOLEAN,
    "displaystyle": _BOOLEAN, "movablelimits": _BOOLEAN, "largeop": _BOOLEAN, "symmetric": _BOOLEAN,
    "form": "prefix|infix|postfix", "scriptlevel": r"[+-]?\d", "linebreak": "newline",
    "columnalign": r"(?:(?:left|right|center) ?){1,64}", "rowalign": r"(?:(?:top|bottom|center|baseline) ?){1,64}",
    "columnlines": r"(?:(?:none|solid|dashed) ?){1,64}", "rowlines": r"(?:(?:none|solid|dashed) ?){1,64}",
    "columnspacing": rf"(?:(?:{_LENGTH}) ?){{1,64}}", "rowspacing": rf"(?:(?:{_LENGTH}) ?){{1,64}}",
    "width": _LENGTH, "height": _LENGTH, "depth": _LENGTH, "lspace": _LENGTH, "rspace": _LENGTH,
    "minsize": _LENGTH, "maxsize": _LENGTH, "mathsize": _LENGTH, "linethickness": _LENGTH,
    "voffset": r"[+-]?0?\.\d{1,4}(?:em|ex)",  # a nudge, never a move over the neighbouring lines
    "notation": r"[a-z ]{1,80}", "mathcolor": r"[A-Za-z]{1,20}|#[0-9A-Fa-f]{3,8}",
    "columnspan": r"\d{1,2}", "rowspan": r"\d{1,2}",
}
_ATTRIBUTE_VALUE = {name: re.compile(pattern) for name, pattern in _ATTRIBUTES.items()}
_MATH_ATTRIBUTES = {"*": set(_ATTRIBUTES)}  # for nh3: names only (the values were checked when written)
_ELEMENTS = frozenset({  # MathML Core presentation elements; others are unwrapped (their children kept)
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "mtext", "ms", "mspace", "msub", "msup", "msubsup",
    "munder", "mover", "munderover", "mfrac", "msqrt", "mroot", "mstyle", "mpadded", "mphantom", "menclose",
    "mtable", "mtr", "mtd", "merror", "mmultiscripts", "mprescripts",
})
_CHAR_REF = re.compile(r"&#x([0-9A-Fa-f]{1,6});|&#(\d{1,7});")  # latex2mathml writes symbols as these
_MACROS = re.compile(r"\\(?:newcommand|renewcommand|providecommand|def|gdef|edef|let|newenvironment"
                     r"|renewenvironment|DeclareMathOperator)(?![A-Za-z])")
_ALIASES = {  # what latex2mathml lacks, as what it has: amsmath environments ("" drops the wrapper), \arg,
    # and a backslash before a line break (a space, as `\ ` in the same line)
    "aligned": "align*", "gathered": "matrix", "gather": "matrix", "gather*": "matrix", "multline": "matrix",
    "multline*": "matrix", "dcases": "cases", "equation": "", "equation*": "", "\\arg": "\\operatorname{arg}",
    "\\\n": "\\ ", "\\\\": "\\\\",
}
_REWRITE = re.compile(r"\\(begin|end)\{(aligned|gathered|gather\*?|equation\*?|multline\*?|dcases)\}"
                      r"|\\arg(?![A-Za-z])|\\\n|\\\\")


class _Refused(ValueError):
    """The formula is too big, too deep or defines macros: shown as TeX instead."""


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _char(match: re.Match) -> str:
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def _text(text: str | None) -> str:
    return _esc(_CHAR_REF.sub(_char, text)) if text else ""


def _attributes(element: Element) -> str:
    kept = [(name, value) for name, value in element.attrib.items()
            if name in _ATTRIBUTE_VALUE and _ATTRIBUTE_VALUE[name].fullmatch(value)]
    return "".join(f' {name}="{html.escape(value)}"' for name, value in kept)


def _write(element: Element, out: list[str], *, depth: int = 0) -> None:
    """`element` as allow-listed MathML: known elements and attributes only, every text escaped."""
    if depth > MAX_ELEMENT_DEPTH or len(out) > 4 * MAX_ELEMENTS:
        raise _Refused("too deep or too many elements")
    known = element.tag in _ELEMENTS
    if known:
        out.append(f"<{element.tag}{_attributes(element)}>")
    out.append(_text(element.text))
    for child in element:
        _write(child, out, depth=depth + 1)
        out.append(_text(child.tail))
    if known:
        out.append(f"</{element.tag}>")


def _check(tex: str) -> str:
    """The TeX latex2mathml may see (what it lacks renamed: _ALIASES), or _Refused."""
    if len(tex) > MAX_FORMULA_CHARS:
        raise _Refused("too long")
    if _MACROS.search(tex):  # a macro can double itself per level: exponential output from a short formula
        raise _Refused("defines macros")
    depth = 0
    for piece in re.finditer(r"\\.|[{}]", tex, re.DOTALL):
        depth += {"{": 1, "}": -1}.get(piece.group(0), 0)
        if depth < 0 or depth > MAX_BRACE_DEPTH:
            raise _Refused("unbalanced or too deep braces")
    if depth:
        raise _Refused("unbalanced braces")
    return _REWRITE.sub(_alias, tex)


def _alias(match: re.Match) -> str:
    if not match.group(1):
        return _ALIASES[match.group(0)]
    name = _ALIASES[match.group(2)]
    return f"\\{match.group(1)}{{{name}}}" if name else ""


def tex_to_mathml(tex: str, *, display: bool = False) -> str:
    """One formula as a <math> element; its TeX, escaped, in <code class="math"> when it cannot be converted."""
    try:
        tree = convert_to_element(_check(tex), display="block" if display else "inline")
        body: list[str] = []
        for child in tree:  # the <math> element's own attributes (xmlns) are not needed in HTML
            _write(child, body)
    except Exception:  # noqa: BLE001 - latex2mathml raises many kinds (and RecursionError) on broken TeX
        return f'<code class="math">{_esc(tex)}</code>'
    mode = ' display="block"' if display else ""
    math = (f'<math{mode}><semantics>{"".join(body) or "<mrow></mrow>"}'
            f'<annotation encoding="application/x-tex">{_esc(tex)}</annotation></semantics></math>')
    math = nh3.clean(math, tags=set(_ELEMENTS), attributes=_MATH_ATTRIBUTES, strip_comments=True)  # a second guard
    if not display:
        return math
    # a wide formula scrolls sideways (static/math.css); focusable so a keyboard can scroll it too
    return f'<span class="math-block" tabindex="0" role="group" aria-label="formula">{math}</span>'


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
_INLINE = re.compile(r"\\\$|\$\$(.+?)\$\$|\$(?=\S)((?:[^$\\\n]|\\.|\n(?![ \t]*\n))+?)(?<=\S)\$(?!\d)", re.DOTALL)


def _protect(text: str, formulas: list[tuple[str, bool]], tag: str) -> str:
    """Formulas outside code spans become placeholders (code spans are cut out first: they win over dollars)."""
    parts, last = [], 0
    for code in _CODE_SPAN.finditer(text):
        parts += [_protect_math(text[last:code.start()], formulas, tag), code.group(0)]
        last = code.end()
    return "".join(parts + [_protect_math(text[last:], formulas, tag)])


def _protect_math(text: str, formulas: list[tuple[str, bool]], tag: str) -> str:
    def swap(match: re.Match) -> str:
        if match.group(0) == "\\$":
            return match.group(0)  # an escaped dollar stays (markdown drops the backslash)
        display = match.group(1) is not None
        formulas.append((match.group(1) if display else match.group(2), display))
        return f"{tag}{len(formulas) - 1}x"
    return _INLINE.sub(swap, text)


class FormulaBudget:
    """How much TeX one document may still convert (MAX_DOCUMENT_CHARS); shared by all cells of a notebook."""

    def __init__(self, chars: int | None = None) -> None:
        self.left = MAX_DOCUMENT_CHARS if chars is None else chars

    def spend(self, tex: str) -> bool:
        self.left -= len(tex) + FORMULA_OVERHEAD
        return self.left >= 0


def _formulas_as_mathml(formulas: list[tuple[str, bool]], budget: FormulaBudget) -> list[str]:
    """Each formula as MathML, until the document's budget is spent; the rest as TeX."""
    return [tex_to_mathml(tex, display=display) if budget.spend(tex) else f'<code class="math">{_esc(tex)}</code>'
            for tex, display in formulas]


def notebook_markdown() -> Callable[[str], str]:
    """The markdown renderer for one notebook (sanitize.render_notebook's `markdown`): one budget for all cells."""
    return functools.partial(render_statement, budget=FormulaBudget())


def render_statement(markdown: str, *, budget: FormulaBudget | None = None) -> str:
    """A README or a markdown cell as clean HTML (sanitize.render_markdown) with its formulas as MathML."""
    tag = "gfmath" + secrets.token_hex(4) + "n"
    formulas: list[tuple[str, bool]] = []
    out, chunk, fence = [], [], None
    for line in markdown.splitlines(keepends=True):
        opened = _FENCE.match(line)
        if fence is None and opened:
            out.append(_protect("".join(chunk), formulas, tag))
            chunk, fence = [], opened.group(1)[0]
            out.append(line)
        elif fence is not None:
            out.append(line)
            if opened and opened.group(1)[0] == fence:
                fence = None
        else:
            chunk.append(line)
    out.append(_protect("".join(chunk), formulas, tag))
    rendered = render_markdown("".join(out))
    mathml = _formulas_as_mathml(formulas, budget or FormulaBudget())
    return re.sub(re.escape(tag) + r"(\d+)x", lambda match: mathml[int(match.group(1))], rendered)
