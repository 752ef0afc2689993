from html.parser import HTMLParser

import nbformat

from gradeflow_api.web.sanitize import clean_html, render_markdown, render_notebook, render_output

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<div onclick="alert(1)">x</div>',
    '<iframe src="https://evil"></iframe>',
    '<svg><script>alert(1)</script></svg>',
    '<style>body{display:none}</style>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<img src="https://tracker.example/pixel.png">',
    '<form action="https://evil"><input name=p></form>',
]


class ActiveParts(HTMLParser):
    """Collects every tag or attribute that could run code, load something, or restyle the page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "style", "form", "svg", "object", "embed", "link", "meta"):
            self.found.append(tag)
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src") and (value.startswith("javascript:") or value.startswith("http")):
                if not (tag == "a" and value.startswith("http")):
                    self.found.append(f"{tag}[{name}={value}]")


def assert_inert(html: str) -> None:
    parser = ActiveParts()
    parser.feed(html)
    assert parser.found == [], (parser.found, html)


def test_html_attacks_are_neutralised():
    for attack in ATTACKS:
        assert_inert(clean_html(attack))
        assert_inert(render_output({"output_type": "display_data", "data": {"text/html": attack}}))


def test_safe_markup_and_embedded_images_survive():
    assert "<table>" in clean_html("<table><tr><td>1</td></tr></table>")
    png = "iVBORw0KGgo="
    assert f"data:image/png;base64,{png}" in render_output({"output_type": "display_data", "data": {"image/png": png}})


def test_javascript_outputs_are_dropped_and_svg_is_only_an_image():
    assert render_output({"output_type": "display_data", "data": {"application/javascript": "alert(1)"}}) == ""
    svg = render_output({"output_type": "display_data", "data": {"image/svg+xml": "<svg onload='alert(1)'/>"}})
    assert svg.startswith("<img") and "onload" not in svg


def test_markdown_raw_html_is_escaped():
    assert_inert(render_markdown("# Title\n<script>alert(1)</script>\n[x](javascript:alert(1))"))


def test_whole_notebook_renders_inert():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("<img src=x onerror=alert(1)>"),
        nbformat.v4.new_code_cell("print('<script>')", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="<script>alert(1)</script>"),
            nbformat.v4.new_output("display_data", data={"text/html": ATTACKS[1]}),
        ]),
    ])
    html = render_notebook(nbformat.writes(nb))
    assert_inert(html)
    assert "&lt;script&gt;" in html
