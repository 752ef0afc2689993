"""Formulas in statements become MathML; everything stays escaped (gradeflow/web/math.py)."""
import re

from gradeflow_api.web.math import render_statement, tex_to_mathml
from tests.conftest import ASSIGNMENTS


def test_scripts_fractions_and_greek():
    out = tex_to_mathml(r"y_{k+1} = \frac{\theta}{2} h^2")
    assert "<msub><mi>y</mi><mrow><mi>k</mi><mo>+</mo><mn>1</mn></mrow></msub>" in out
    assert "<mfrac><mi>θ</mi><mn>2</mn></mfrac>" in out and "<msup><mi>h</mi><mn>2</mn></msup>" in out
    assert '<annotation encoding="application/x-tex">y_{k+1} = \\frac{\\theta}{2} h^2</annotation>' in out


def test_display_math_is_a_block():
    assert tex_to_mathml("x", display=True).startswith('<span class="math-block"><math display="block">')


def test_text_is_escaped_everywhere():
    out = tex_to_mathml(r"a<b \text{<script>alert(1)</script>} \unknown{x}")
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<mtext>\\unknown</mtext>" in out  # unknown commands show their name


def test_a_broken_formula_is_shown_as_tex():
    assert tex_to_mathml(r"\frac{a}{b") == '<code class="math">\\frac{a}{b</code>'
    assert tex_to_mathml("^x").startswith('<code class="math">')


def test_dollars_in_code_and_escaped_dollars_stay_text():
    html = render_statement("Costs \\$5 or $6, `$x$` stays code, $y$ is math.\n\n```\n$z$\n```\n")
    assert html.count("<math") == 1 and "<code>$x$</code>" in html and "$z$" in html and "$5" in html


def test_markdown_escapes_do_not_eat_tex_spacing():
    html = render_statement(r"$h\,\theta$")
    assert '<mspace width="0.167em">' in html


def test_the_ode_theta_statement_renders_every_formula():
    html = render_statement((ASSIGNMENTS / "ode-theta" / "README.md").read_text())
    assert html.count("<math") >= 30 and html.count('display="block"') == 2
    outside_code = re.sub(r"<code>.*?</code>|<pre>.*?</pre>|<annotation.*?</annotation>", "", html, flags=re.S)
    assert "$" not in outside_code and "<mtext>\\" not in html


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
                                     "$" + "{" * 5000 + "x" + "}" * 5000 + "$"), markdown=render_statement)
    assert "<script" not in html and "<img" not in html and "onerror=" not in html.replace("onerror=alert", "")
    assert "&lt;script&gt;" in html
    assert '<code class="math">' in html  # nested too deep: shown as TeX, not a server error


def test_a_one_digit_argument_without_braces_as_in_tex():
    assert "<mfrac><mn>1</mn><mn>2</mn></mfrac>" in tex_to_mathml(r"\frac12")
    assert "<msup><mi>x</mi><mn>2</mn></msup><mn>3</mn>" in tex_to_mathml("x^23")  # TeX's x²3, not x²³
    assert "<mn>5</mn>" in tex_to_mathml(r"\frac1.5")  # nothing of the number is lost
