"""Counts in words: the one `plural` filter the templates use (web/render.py)."""
from gradeflow_api.web.render import plural, templates


def test_plural_words():
    assert [plural(n, "student") for n in (0, 1, 2)] == ["0 students", "1 student", "2 students"]
    assert plural(1, "child", "children") == "1 child" and plural(3, "child", "children") == "3 children"
    assert plural(1, "submission", number=False) == "submission" and plural(5, "run", number=False) == "runs"


def test_the_templates_have_it():
    env = templates().env
    assert env.from_string('{{ n|plural("message") }}').render(n=1) == "1 message"
    assert env.from_string('{{ n|plural("message") }}').render(n=4) == "4 messages"
