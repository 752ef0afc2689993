"""Formulas in statements become MathML (latex2mathml); everything stays escaped (gradeflow_api/web/math.py)."""
import re
from html.parser import HTMLParser

import nh3
import pytest
from gradeflow_api.web import math
from gradeflow_api.web.math import render_statement, tex_to_mathml

from tests.conftest import ASSIGNMENTS

ALLOWED_TAGS = {"math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "mtext", "mspace", "msub", "msup",
                "msubsup", "munder", "mover", "munderover", "mfrac", "msqrt", "mroot", "mstyle", "mpadded",
                "mphantom", "menclose", "mtable", "mtr", "mtd"}


def tags_and_attributes(html: str) -> tuple[set[str], set[str]]:
    """Every element and attribute name in `html`, as a browser's tokenizer sees them."""
    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)
            attributes.update(name for name, _ in attrs)
    tags, attributes = set(), set()
    Collector().feed(html)
    return tags, attributes


def without_annotations(html: str) -> str:
    return re.sub(r"<annotation.*?</annotation>", "", html, flags=re.DOTALL)


def test_scripts_fractions_and_greek():
    out = tex_to_mathml(r"y_{k+1} = \frac{\theta}{2} h^2")
    assert "<msub><mi>y</mi><mrow><mi>k</mi><mo>+</mo><mn>1</mn></mrow></msub>" in out
    assert "<mfrac><mrow><mi>θ</mi></mrow><mrow><mn>2</mn></mrow></mfrac>" in out
    assert "<msup><mi>h</mi><mn>2</mn></msup>" in out
    assert '<annotation encoding="application/x-tex">y_{k+1} = \\frac{\\theta}{2} h^2</annotation>' in out


@pytest.mark.parametrize(("tex", "expected"), [
    (r"x \in \mathbb{R}^n", "<mi>ℝ</mi>"),
    (r"\mathcal{N}(0, I)", "<mi>𝒩</mi>"),
    (r"\operatorname{tr}(A)", "<mo>tr</mo>"),
    (r"\hat w = \arg\min_w", "<mo>arg</mo>"),
    (r"\begin{aligned} a &= b \\ c &= d \end{aligned}",
     '<mtr><mtd columnalign="right"><mi>a</mi></mtd><mtd columnalign="left"><mi></mi><mo>=</mo><mi>b</mi></mtd></mtr>'),
    (r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
     "<mo>(</mo><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>2</mn></mtd></mtr><mtr><mtd><mn>3</mn></mtd>"),
    (r"|x| = \begin{cases} x & x \ge 0 \\ -x & \text{otherwise} \end{cases}",
     '<mo stretchy="true" fence="true" form="prefix">{</mo><mtable><mtr><mtd columnalign="left"><mi>x</mi></mtd>'),
    (r"\begin{gathered} a \\ b \end{gathered}", "<mtable><mtr><mtd><mi>a</mi></mtd></mtr><mtr><mtd><mi>b</mi>"),
    ("a,\\\nb", "<mi>a</mi><mo>,</mo><mtext>\xa0</mtext><mi>b</mi>"),  # `\` before a line break: a space
])
def test_a_mathematics_course_tex_renders_as_mathml(tex, expected):
    out = tex_to_mathml(tex)
    assert out.startswith("<math><semantics>") and expected in nh3_text(out), out
    assert "\\" not in without_annotations(out)  # no command left untranslated


def nh3_text(html: str) -> str:
    return html.replace("&nbsp;", "\xa0")


def test_display_math_is_a_focusable_block_that_can_scroll():
    out = tex_to_mathml("x", display=True)
    assert out.startswith('<span class="math-block" tabindex="0" role="group" aria-label="formula">'
                          '<math display="block">')


def test_text_is_escaped_everywhere():
    out = tex_to_mathml(r"a<b \text{<script>alert(1)</script>} \unknown{x}")
    assert "<script>" not in out and "<mtext>&lt;script&gt;alert(1)&lt;/script&gt;</mtext>" in out
    assert "<mi>\\unknown</mi>" in out  # unknown commands show their name


@pytest.mark.parametrize("tex", [
    r"\href{javascript:alert(1)}{x}", r"\style{background:url(x)}{x}", r"\class{skip}{x}",
    r"\color{url(javascript:x)}{x}", r"\text{<img src=x onerror=alert(1)>}", r"\mathrm{</math><script>x</script>}",
    r"\text{&lt;script&gt;}", r"\rule{5000em}{5000em}", r"\hspace{99999em}", r"\colorbox{red}{\text{over}}",
    r"\xrightarrow{abc}", r"\text{\"><svg onload=alert(1)>}",
])
def test_hostile_formulas_become_only_allowed_mathml(tex):
    out = tex_to_mathml(tex)
    tags, attributes = tags_and_attributes(out)
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert attributes <= set(math._ATTRIBUTES), attributes
    assert not attributes & {"href", "style", "class", "src", "onerror", "onload", "mathbackground"}
    assert "javascript:" not in without_annotations(out)
    for width in re.findall(r'(?:width|height)="([^"]*)"', out):
        assert float(re.match(r"[+-]?[\d.]*", width).group() or 0) < 100  # nothing sized to cover the page
    assert nh3.clean(out, tags=ALLOWED_TAGS, attributes={"*": set(math._ATTRIBUTES)}) == out  # already clean


def test_a_broken_formula_is_shown_as_tex():
    assert tex_to_mathml(r"\frac{a}{b") == '<code class="math">\\frac{a}{b</code>'
    for broken in ("x^", r"\left( x", r"\begin{pmatrix} 1", "x_1_2", r"\sqrt", "a}{b"):
        assert tex_to_mathml(broken).startswith('<code class="math">'), broken
    assert tex_to_mathml(r"<b>\frac{") == '<code class="math">&lt;b&gt;\\frac{</code>'


def test_macro_definitions_huge_and_deep_formulas_are_shown_as_tex():
    doubling = r"\newcommand{\a}{xx}" + "".join(
        rf"\newcommand{{\{chr(98 + i)}}}{{\{chr(97 + i)}\{chr(97 + i)}}}" for i in range(20)) + r"\u"
    assert tex_to_mathml(doubling).startswith('<code class="math">')  # 2^20 x's if expanded
    assert tex_to_mathml(r"\def\x{y}\x").startswith('<code class="math">')
    assert tex_to_mathml("x+" * 3000).startswith('<code class="math">')
    assert tex_to_mathml("{" * 41 + "x" + "}" * 41).startswith('<code class="math">')
    assert tex_to_mathml("{" * 40 + "x" + "}" * 40).startswith("<math>")
    assert tex_to_mathml(r"\sqrt" * 2000 + "x").startswith('<code class="math">')  # deep without braces


def test_a_document_stops_converting_when_its_formula_budget_is_spent(monkeypatch):
    monkeypatch.setattr(math, "MAX_DOCUMENT_CHARS", 2 * math.FORMULA_OVERHEAD + 10)
    html = render_statement("$a+b$ then $c+d$ then $e+f+g+h$")
    assert html.count("<math>") == 2 and '<code class="math">e+f+g+h</code>' in html


def test_one_budget_covers_every_cell_of_a_notebook(monkeypatch):
    from gradeflow_api.web.sanitize import render_notebook

    monkeypatch.setattr(math, "MAX_DOCUMENT_CHARS", 3 * (math.FORMULA_OVERHEAD + 1))
    html = render_notebook(_notebook(*["$x$ and $y$"] * 5), markdown=math.notebook_markdown())
    assert html.count("<math>") == 3 and html.count('<code class="math">') == 7  # not 2 per cell, 10 in all


def test_thousands_of_tiny_formulas_spend_the_budget_too():
    html = render_statement("$x$ " * 20_000)
    assert 1_000 < html.count("<math>") < 2_100 and html.count('<code class="math">x</code>') > 17_000


def test_dollars_in_code_and_escaped_dollars_stay_text():
    html = render_statement("Costs \\$5 or $6, `$x$` stays code, $y$ is math.\n\n```\n$z$\n```\n")
    assert html.count("<math") == 1 and "<code>$x$</code>" in html and "$z$" in html and "$5" in html


def test_markdown_escapes_do_not_eat_tex_spacing():
    html = render_statement(r"$h\,\theta$")
    assert '<mspace width="0.167em"></mspace>' in html


@pytest.mark.parametrize("readme", sorted(ASSIGNMENTS.glob("*/README.md")), ids=lambda path: path.parent.name)
def test_every_statement_of_the_course_renders_every_formula(readme):
    html = render_statement(readme.read_text())
    assert html.count("<math") >= 10
    outside = re.sub(r"<code>.*?</code>|<pre>.*?</pre>|<annotation.*?</annotation>", "", html, flags=re.DOTALL)
    assert "$" not in outside and '<code class="math">' not in html
    assert not re.search(r"<m[ion]>\\", html)  # no TeX command left untranslated


def test_the_ode_theta_statement_has_its_two_display_formulas():
    html = render_statement((ASSIGNMENTS / "ode-theta" / "README.md").read_text())
    assert html.count("<math") >= 30 and html.count('<math display="block">') == 2
    assert html.count('<span class="math-block" tabindex="0"') == 2


def _notebook(*markdown_cells: str) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text) for text in markdown_cells])
    return nbformat.writes(nb)


def test_formulas_in_a_submitted_notebook_become_mathml():
    from gradeflow_api.web.sanitize import render_notebook

    html = render_notebook(_notebook(r"The error is $O(h^2)$ for $\theta = \frac12$."), markdown=render_statement)
    assert html.count("<math>") == 2 and "<msup><mi>h</mi><mn>2</mn></msup>" in html and "θ" in html
    assert "$" not in html


def test_hostile_formulas_in_a_notebook_stay_inert():
    from gradeflow_api.web.sanitize import render_notebook

    html = render_notebook(_notebook(r"$\text{<script>alert(1)</script>}$ and $<img src=x onerror=alert(1)>$",
                                     r"$\href{javascript:alert(1)}{\style{position:fixed}{x}}$",
                                     "$" + "{" * 5000 + "x" + "}" * 5000 + "$"), markdown=render_statement)
    assert "<script" not in html and "<img" not in html and "onerror=" not in html.replace("onerror=alert", "")
    assert "&lt;script&gt;" in html and "href=" not in html and "style=" not in html
    assert '<code class="math">' in html  # nested too deep: shown as TeX, not a server error


def test_a_one_digit_argument_without_braces_as_in_tex():
    assert "<mfrac><mn>1</mn><mn>2</mn></mfrac>" in tex_to_mathml(r"\frac12")
    assert "<msup><mi>x</mi><mn>2</mn></msup><mn>3</mn>" in tex_to_mathml("x^23")  # TeX's x²3, not x²³
    assert "<mn>5</mn>" in tex_to_mathml(r"\frac1.5")  # nothing of the number is lost
