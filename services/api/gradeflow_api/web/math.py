"""Formulas in statements: `$...$` and `$$...$$` become MathML, which browsers render natively (no CDN, no JS).

A small TeX subset (letters, numbers, operators, Greek, common symbols, `^`, `_`, `\\frac`, `\\sqrt`, `\\text`,
accents, `\\left`/`\\right` and sized delimiters) is translated; anything else appears as its TeX name. Every
piece of text is HTML-escaped, and the TeX source rides along in an <annotation> for copying and screen readers.
On unbalanced braces the formula is shown as TeX in <code class="math">.
"""
from __future__ import annotations

import html
import re
import secrets

from gradeflow_api.web.sanitize import render_markdown

_GREEK = {name: chr(code) for name, code in (
    ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4), ("epsilon", 0x3F5), ("varepsilon", 0x3B5),
    ("zeta", 0x3B6), ("eta", 0x3B7), ("theta", 0x3B8), ("vartheta", 0x3D1), ("iota", 0x3B9), ("kappa", 0x3BA),
    ("lambda", 0x3BB), ("mu", 0x3BC), ("nu", 0x3BD), ("xi", 0x3BE), ("pi", 0x3C0), ("rho", 0x3C1), ("sigma", 0x3C3),
    ("tau", 0x3C4), ("upsilon", 0x3C5), ("phi", 0x3D5), ("varphi", 0x3C6), ("chi", 0x3C7), ("psi", 0x3C8),
    ("omega", 0x3C9), ("Gamma", 0x393), ("Delta", 0x394), ("Theta", 0x398), ("Lambda", 0x39B), ("Xi", 0x39E),
    ("Pi", 0x3A0), ("Sigma", 0x3A3), ("Phi", 0x3A6), ("Psi", 0x3A8), ("Omega", 0x3A9))}
_OPERATORS = {
    "dots": "…", "ldots": "…", "cdots": "⋯", "vdots": "⋮", "partial": "∂", "nabla": "∇", "infty": "∞",
    "gg": "≫", "ll": "≪", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
    "sim": "∼", "equiv": "≡", "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒", "mapsto": "↦",
    "cdot": "⋅", "times": "×", "pm": "±", "mp": "∓", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆",
    "cup": "∪", "cap": "∩", "sum": "∑", "prod": "∏", "int": "∫", "mid": "|", "|": "‖", "lVert": "‖", "rVert": "‖",
    "{": "{", "}": "}", "langle": "⟨", "rangle": "⟩", "forall": "∀", "exists": "∃", "circ": "∘", "star": "⋆",
}
_FUNCTIONS = {"exp", "log", "ln", "sin", "cos", "tan", "max", "min", "arg", "det", "sup", "inf", "lim", "tanh"}
_SPACES = {",": "0.167em", ":": "0.222em", ";": "0.278em", "!": "0", "quad": "1em", "qquad": "2em", " ": "0.25em"}
_SIZES = {"left", "right", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "big", "Big", "bigg", "middle"}
_ACCENTS = {"hat": "^", "bar": "¯", "tilde": "~", "dot": "˙", "ddot": "¨", "vec": "→", "overline": "¯"}
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([A-Za-z])|(\d+(?:\.\d+)?)|(\s+)|(.)", re.S)


class TexError(ValueError):
    """The formula is not well formed (unbalanced braces, a script with nothing to attach to)."""


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


class _Parser:
    def __init__(self, tex: str) -> None:
        self.tokens = [m for m in _TOKEN.finditer(tex) if not m.group(4)]
        self.pos = 0

    def peek(self) -> re.Match | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> re.Match:
        token = self.peek()
        if token is None:
            raise TexError("unexpected end of formula")
        self.pos += 1
        return token

    def row(self, closing: str | None = None) -> str:
        items = []
        while (token := self.peek()) is not None and not (closing and token.group(5) == closing):
            if token.group(5) == "}":
                raise TexError("unbalanced }")
            items.append(self.scripted())
        if closing is not None:
            self.take()  # the closing brace; raises at the end of an unbalanced formula
        return items[0] if len(items) == 1 else f"<mrow>{''.join(items)}</mrow>"

    def argument(self) -> str:
        token = self.take()
        if token.group(5) == "{":
            return self.row("}")
        number = token.group(3)
        if number and len(number) > 1:  # TeX takes one digit as an argument: \frac12 is 1/2
            self.tokens[self.pos - 1:self.pos] = [_TOKEN.match(number[0]), *_TOKEN.finditer(number[1:])]
        self.pos -= 1
        return self.atom()

    def raw_argument(self) -> str:
        if self.take().group(5) != "{":
            raise TexError("expected {")
        depth, text = 1, []
        while True:
            token = self.take()
            depth += {"{": 1, "}": -1}.get(token.group(5) or "", 0)
            if depth == 0:
                return "".join(text)
            text.append(token.group(0))

    def scripted(self) -> str:
        base = self.atom()
        sub = sup = None
        primes = ""
        while (token := self.peek()) is not None and token.group(5) in ("^", "_", "'"):
            self.take()
            if token.group(5) == "'":  # y' reads best as y′ on the baseline
                primes += "′"
            elif token.group(5) == "^":
                sup = self.argument()
            else:
                sub = self.argument()
        if primes:
            base = f"<mrow>{base}<mo>{primes}</mo></mrow>"
        if sub and sup:
            return f"<msubsup>{base}{sub}{sup}</msubsup>"
        if sub:
            return f"<msub>{base}{sub}</msub>"
        return f"<msup>{base}{sup}</msup>" if sup else base

    def atom(self) -> str:
        token = self.take()
        command, letter, number, _, other = token.groups()
        if letter:
            return f"<mi>{letter}</mi>"
        if number:
            return f"<mn>{number}</mn>"
        if other == "{":
            return self.row("}")
        if other in ("^", "_"):
            raise TexError(f"{other} with nothing before it")
        if other is not None:
            return f"<mo>{_esc('−' if other == '-' else other)}</mo>"
        return self.command(command)

    def command(self, name: str) -> str:
        if name in _GREEK:
            return f"<mi>{_GREEK[name]}</mi>"
        if name in _OPERATORS:
            return f"<mo>{_esc(_OPERATORS[name])}</mo>"
        if name in _SPACES:
            return f'<mspace width="{_SPACES[name]}"></mspace>'
        if name in _FUNCTIONS:
            return f"<mi>{name}</mi><mspace width=\"0.167em\"></mspace>"
        if name in _SIZES:  # \left( \bigl[ ...: the delimiter itself; \left. is none
            if self.peek() is not None and self.peek().group(5) == ".":
                self.take()
                return ""
            return self.atom()
        if name == "frac":
            return f"<mfrac>{self.argument()}{self.argument()}</mfrac>"
        if name == "sqrt":
            return f"<msqrt>{self.argument()}</msqrt>"
        if name in ("text", "mathrm", "operatorname", "textrm", "mbox"):
            return f"<mtext>{_esc(self.raw_argument())}</mtext>"
        if name in ("mathbf", "boldsymbol", "mathit", "mathcal"):
            return self.argument()
        if name == "mathbb":
            text = self.raw_argument().strip()
            return f"<mi>{_esc(_BLACKBOARD.get(text, text))}</mi>"
        if name in _ACCENTS:
            return f'<mover accent="true">{self.argument()}<mo>{_ACCENTS[name]}</mo></mover>'
        if name == "\\":
            return '<mspace width="1em"></mspace>'
        return f"<mtext>\\{_esc(name)}</mtext>"


def tex_to_mathml(tex: str, *, display: bool = False) -> str:
    """One formula as a <math> element; TeX in <code class="math"> when it is not well formed."""
    try:
        body = _Parser(tex).row()
    except (TexError, RecursionError):  # a student's notebook may nest braces thousands deep
        return f'<code class="math">{_esc(tex)}</code>'
    mode = ' display="block"' if display else ""
    math = (f'<math{mode}><semantics>{body or "<mrow></mrow>"}'
            f'<annotation encoding="application/x-tex">{_esc(tex)}</annotation></semantics></math>')
    return f'<span class="math-block">{math}</span>' if display else math  # scrolls sideways on a phone


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+).+?\1", re.S)
_INLINE = re.compile(r"\\\$|\$\$(.+?)\$\$|\$(?=\S)((?:[^$\\\n]|\\.|\n(?![ \t]*\n))+?)(?<=\S)\$(?!\d)", re.S)


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


def _formula(formulas: list[tuple[str, bool]]):
    def replace(match: re.Match) -> str:
        tex, display = formulas[int(match.group(1))]
        return tex_to_mathml(tex, display=display)
    return replace


def render_statement(markdown: str) -> str:
    """A README as clean HTML (core.sanitize.render_markdown) with its formulas as MathML."""
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
    return re.sub(re.escape(tag) + r"(\d+)x", _formula(formulas), rendered)
