"""The line index built by scanning the TOML text."""

from __future__ import annotations

import json
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from survmeta.registry.lines import index_lines

DOC = '''\
# a comment [[study]] that must not count
schema_version = 1

[[study]]
id = "a"
definitions = [
  "primary resistance: no response [within 6 months]",  # a [bracket] in a string
  'acquired = resistance',
]
notes = """
[[study]]
id = "not a key"
"""

[[study.comparison]]
id = "c1"
hr = { estimate = 2.33, ci = [1.21, 4.47] }

[[study.comparison]]
id = "c2"
"quoted key" = 1
hr.estimate = 0.45

[study.comparison.experimental]
label = "x"
ci = [
  5.34,
  8.77,
]

[[study]]
id = "b"

[[study.comparison]]
id = "c3"
'''


def _line(needle: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate(DOC.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def test_document_parses():
    doc = tomllib.loads(DOC)
    assert [s["id"] for s in doc["study"]] == ["a", "b"]
    assert [c["id"] for c in doc["study"][0]["comparison"]] == ["c1", "c2"]


def test_array_of_tables_entries_counted_per_parent():
    index = index_lines(DOC)
    assert index.exact(("study", 0)) == _line("[[study]]", 2)  # the first is in a comment
    assert index.exact(("study", 1)) == _line("[[study]]", 4)  # the third is inside a string
    assert index.exact(("study", 0, "comparison", 1)) == _line("[[study.comparison]]", 2)
    assert index.exact(("study", 1, "comparison", 0)) == _line("[[study.comparison]]", 3)


def test_keys_after_multiline_array_and_string():
    index = index_lines(DOC)
    assert index.exact(("study", 0, "definitions")) == _line("definitions = [")
    assert index.exact(("study", 0, "notes")) == _line('notes = """')
    assert index.exact(("study", 0, "id")) == _line('id = "a"')
    # the 'id = "not a key"' line inside the multi-line string is not a key
    assert index.exact(("study", 1, "id")) == _line('id = "b"')


def test_inline_fields_take_the_line_of_their_key():
    index = index_lines(DOC)
    assert index.line(("study", 0, "comparison", 0, "hr", "ci")) == _line("hr = { estimate = 2.33")


def test_sub_tables_quoted_and_dotted_keys():
    index = index_lines(DOC)
    comp = ("study", 0, "comparison", 1)
    assert index.exact(comp + ("experimental",)) == _line("[study.comparison.experimental]")
    assert index.exact(comp + ("experimental", "ci")) == _line("ci = [", 2)  # the first is inside hr = {...}
    assert index.exact(comp + ("quoted key",)) == _line('"quoted key"')
    assert index.exact(comp + ("hr", "estimate")) == _line("hr.estimate")
    # a key missing from a sub-table falls back to the sub-table header
    assert index.line(comp + ("experimental", "n")) == _line("[study.comparison.experimental]")


def test_empty_document_points_at_line_one():
    assert index_lines("").line(("schema_version",)) == 1


# Property: for generated documents, every scalar key is indexed at the line that writes it.

_text = st.text(alphabet="ab #[]{}=\"'\\,.", max_size=12)
_value = st.one_of(st.integers(-5, 5), _text, st.lists(_text, max_size=3))
_keys = st.sampled_from(["id", "p", "quote", "notes", "n"])


def _render_value(value, multiline: bool) -> str:
    if isinstance(value, list):
        items = [json.dumps(v) for v in value]
        if multiline:
            return "[\n" + "".join(f"  {item},  # [x] = 1\n" for item in items) + "]"
        return "[" + ", ".join(items) + "]"
    return json.dumps(value)


@st.composite
def _documents(draw):
    studies = draw(st.lists(
        st.tuples(st.dictionaries(_keys, _value, max_size=3),
                  st.lists(st.dictionaries(_keys, _value, max_size=3), max_size=3)),
        max_size=3))
    multiline = draw(st.booleans())
    lines, expected = ["schema_version = 1"], {("schema_version",): 1}
    for i, (fields, comparisons) in enumerate(studies):
        lines += ["", "[[study]]"]
        expected[("study", i)] = len(lines)
        for key, value in fields.items():
            rendered = _render_value(value, multiline)
            lines += f"{key} = {rendered}".split("\n")
            expected[("study", i, key)] = len(lines) - rendered.count("\n")
        for j, comp in enumerate(comparisons):
            lines += ["[[study.comparison]]  # comment"]
            expected[("study", i, "comparison", j)] = len(lines)
            for key, value in comp.items():
                rendered = _render_value(value, multiline)
                lines += f"{key} = {rendered}".split("\n")
                expected[("study", i, "comparison", j, key)] = len(lines) - rendered.count("\n")
    return "\n".join(lines) + "\n", expected


@settings(max_examples=60, deadline=None)
@given(_documents())
def test_generated_documents_are_indexed(document):
    text, expected = document
    tomllib.loads(text)  # the generator writes valid TOML
    index = index_lines(text)
    for location, line in expected.items():
        assert index.exact(location) == line, location
