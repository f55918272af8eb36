"""Commented blocks in the registry format, to fill in and merge with ``survmeta add``.

The blocks are valid TOML. Required fields hold empty strings (or a year of
0) so that an unfilled template is refused by the validator instead of adding
placeholder data; optional fields are commented out with an example.
"""

from __future__ import annotations

__all__ = ["study_template", "comparison_template", "template_text"]

_STUDY = """\
# A new study for the registry. Fill in the fields, delete the optional lines you do
# not need, then merge it with:  survmeta add studies.toml --from THIS_FILE
# Record only what the paper prints; a number that follows by arithmetic from
# printed ones goes with a `derived` note saying how.

[[study]]
id = ""                       # short unique id, e.g. "smith2025" (letters, digits, _ - .)
citation = ""                 # e.g. "Smith A, Jones B, et al. J Thorac Oncol. 2025;20:100-110."
year = 0                      # publication year, e.g. 2025
design = ""                   # rct, prospective cohort, retrospective cohort, case series,
                              # registry, review, meta-analysis, pooled analysis
population = ""               # who was studied, e.g. "advanced NSCLC after anti-PD-(L)1"
# n = 0                       # patients in the study
# doi = "10.xxxx/xxxxx"
# source = "smith2025.pdf"    # file name of the source document
# notes = ""
"""

_COMPARISON = """\
[[study.comparison]]
id = ""                       # unique within the study, e.g. "os_oligo_vs_systemic"
question = "{question}"{question_hint}
endpoint = ""                 # OS, PFS, PFS2, ... as the paper names it
quote = ""                    # the sentence or table cell the numbers come from
location = ""                 # Abstract, Results, Table 2, ...
# population = ""             # if narrower than the study's
experimental = {{ label = "" }}  # the arm named by the question's experimental side;
                              # optional: n, events, median, ci = [lower, upper] ("NR" if not reached)
reference = {{ label = "" }}     # the arm named by the question's reference side
# hr = {{ estimate = 0.5, ci = [0.3, 0.8], level = 0.95, adjusted = true }}
# p = "0.04"                  # as printed: "0.003", "<0.001", "NS"
# sided = 1                   # only when the paper says the p-value is one-sided
# logrank = {{ o_minus_e = -5.2, variance = 10.1 }}
# effect = {{ log_hr = -0.4, se = 0.2 }}   # a log HR and SE given directly
# direction = "favours experimental"      # when only a p-value is given
# subgroup_of = ""            # id of the parent comparison, so nothing is pooled twice
# status = "not poolable: <why>"
# time_unit = "months"        # months, weeks or days
# derived = ["reference.n: 63 with resistance minus 52 with oligo-progression"]
"""


def comparison_template(question: str | None = None, questions=None) -> str:
    """One commented ``[[study.comparison]]`` block.

    Parameters
    ----------
    question : str, optional
        Question id written into the block.
    questions : iterable of str, optional
        Known question ids, listed in a comment when ``question`` is not given.

    Returns
    -------
    str
    """
    hint = ""
    if not question:
        known = ", ".join(questions or ())
        hint = f"             # question id{': ' + known if known else ''}"
    return _COMPARISON.format(question=question or "", question_hint=hint)


def study_template(question: str | None = None, questions=None) -> str:
    """A commented ``[[study]]`` block with one comparison.

    Parameters
    ----------
    question : str, optional
        Question id written into the comparison.
    questions : iterable of str, optional
        Known question ids, listed in a comment when ``question`` is not given.

    Returns
    -------
    str
    """
    return _STUDY + "\n" + comparison_template(question, questions)


def template_text(question: str | None = None, comparison_only: bool = False,
                  questions=None) -> str:
    """The text ``survmeta template`` prints.

    Parameters
    ----------
    question : str, optional
        Question id for the comparison.
    comparison_only : bool
        Print only a comparison block, to add to an existing study with
        ``survmeta add --from FILE --study ID``.
    questions : iterable of str, optional
        Known question ids, for a comment.

    Returns
    -------
    str
    """
    if comparison_only:
        header = ("# A new comparison for an existing study. Fill it in, then merge it with:\n"
                  "#   survmeta add studies.toml --from THIS_FILE --study STUDY_ID\n\n")
        return header + comparison_template(question, questions)
    return study_template(question, questions)
