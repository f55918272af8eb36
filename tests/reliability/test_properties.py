"""Property-based tests of reconstruction and pooling, and a fuzzing test of the CLI (issue 15).

Bounded, derandomized (fixed seed) examples; the whole module runs in a few seconds.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survmeta.cli import main
from survmeta.reconstruction import reconstruct
from survmeta.registry import load_registry_text

REPO = Path(__file__).resolve().parents[2]

FAST = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

HEAD = '''\
schema_version = 1

[[question]]
id = "q"
title = "Drug vs placebo"
experimental = "drug"
reference = "placebo"
outcome = "OS"

[[study]]
id = "s"
citation = "Test A. J Test. 2020;1:1."
year = 2020
design = "rct"
population = "adults"

[[study.comparison]]
id = "c"
question = "q"
endpoint = "OS"
quote = "invented for a property test"
location = "Table 1"
'''


def _arm(label: str, arm: dict, scale: float = 1.0) -> str:
    parts = [f'label = "{label}"']
    if "n" in arm:
        parts.append(f"n = {arm['n']}")
    if "events" in arm:
        parts.append(f"events = {arm['events']}")
    if "median" in arm:
        m, lo, hi = (scale * arm[k] for k in ("median", "lo", "hi"))
        parts.append(f"median = {m!r}, ci = [{lo!r}, {hi!r}]")
    return "{ " + ", ".join(parts) + " }"


def registry_text(exp: dict, ref: dict, extra: str = "", unit: str | None = None,
                  scale: float = 1.0) -> str:
    lines = [f"experimental = {_arm('drug', exp, scale)}",
             f"reference = {_arm('placebo', ref, scale)}"]
    if unit:
        lines.append(f'time_unit = "{unit}"')
    return HEAD + "\n".join(lines) + "\n" + extra


@st.composite
def arms(draw):
    """One arm: n, events <= n, a median with a CI around it (months)."""
    n = draw(st.integers(10, 400))
    arm = {"n": n}
    if draw(st.booleans()):
        arm["events"] = draw(st.integers(1, n))
    median = draw(st.floats(1.0, 60.0))
    arm.update(median=median, lo=median * draw(st.floats(0.3, 0.95)),
               hi=median * draw(st.floats(1.05, 3.0)))
    return arm


p_values = st.sampled_from(["0.001", "0.01", "0.04", "0.2", "<0.001", "<0.05"])


def _row(text: str):
    df = reconstruct(load_registry_text(text))
    return df.iloc[0]


@FAST
@given(exp=arms(), ref=arms(), p=st.one_of(st.none(), p_values), favours=st.booleans())
def test_swapping_arms_negates_the_log_hr_with_the_same_se(exp, ref, p, favours):
    def extra(direction):
        if p is None:
            return ""
        total = exp["n"] + ref["n"] - 1
        return f'p = "{p}"\ndirection = "{direction}"\ntotal_events = {total}\n'

    one, other = ("favours experimental", "favours reference")[:: 1 if favours else -1]
    a = _row(registry_text(exp, ref, extra(one)))
    b = _row(registry_text(ref, exp, extra(other)))
    assert a["poolable"] and b["poolable"]
    assert a["method"] == b["method"]
    assert b["log_hr"] == pytest.approx(-a["log_hr"], rel=1e-9, abs=1e-12)
    assert b["se"] == pytest.approx(a["se"], rel=1e-9)


@FAST
@given(exp=arms(), ref=arms(), unit=st.sampled_from([("weeks", 4.348), ("days", 30.4375)]))
def test_rescaling_time_leaves_the_hr_unchanged(exp, ref, unit):
    name, factor = unit
    months = _row(registry_text(exp, ref))
    other = _row(registry_text(exp, ref, unit=name, scale=factor))
    assert other["method"] == months["method"]
    assert other["log_hr"] == pytest.approx(months["log_hr"], rel=1e-9, abs=1e-12)
    assert other["se"] == pytest.approx(months["se"], rel=1e-9)


effects = st.lists(st.tuples(st.floats(-3, 3), st.floats(0.02, 2.0)), min_size=2, max_size=7,
                   unique_by=lambda t: t[0])

#: Effects that may repeat an estimate (identical HRs are valid data: metafor's zero-width
#: Knapp-Hartung answer, tests/exact).
effects_with_ties = st.lists(st.tuples(st.sampled_from([-0.2877, 0.0, 0.5]), st.floats(0.02, 2.0)),
                             min_size=2, max_size=5)


@FAST
@given(data=effects, seed=st.integers(0, 2**16))
def test_exact_pooling_does_not_depend_on_study_order(data, seed):
    from survmeta.exact import bayesmeta

    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    y, s = map(np.array, zip(*data))
    # a proper tau prior: R's default (flat) is improper below k = 3 and is refused there
    a = bayesmeta(y, s, tau_prior="halfnormal(0.5)")
    b = bayesmeta(y[order], s[order], tau_prior="halfnormal(0.5)")
    for param in ("mu", "tau"):
        assert b.median(param) == pytest.approx(a.median(param), rel=1e-9, abs=1e-12)
        for q in (0.025, 0.975):
            assert b.quantile(param, q) == pytest.approx(a.quantile(param, q), rel=1e-9, abs=1e-12)


@settings(max_examples=15, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(effects, effects_with_ties))
def test_valid_effects_pool_to_finite_numbers(data, tmp_path_factory):
    from survmeta.pooling import pool

    path = tmp_path_factory.mktemp("csv") / "effects.csv"
    path.write_text("study,estimate,se\n" + "".join(f"s{i},{y!r},{s!r}\n"
                                                   for i, (y, s) in enumerate(data)))
    result = pool(path)["effects"]
    d = result.to_dict()
    numbers = [d["hr"]["median"], *d["hr"]["eti95"], d["tau"]["median"], d["p_hr_below_1"]]
    assert all(math.isfinite(x) for x in numbers), numbers
    assert 0 <= d["p_hr_below_1"] <= 1


# -- fuzzing the bundled registry ------------------------------------------------------------
NASTY = ['""', '"x"', '"NR"', "0", "-1", "1e-300", "1e300", "9" * 400, "-" + "9" * 400, "0.05",
         "true", "[]", "[1, 2, 3]", '["NR", 1]', "{}", "{ a = 1 }", "nan", "inf", '"<1"',
         '"P = 0.04"', "1979-05-27", "2.5", '"favours nobody"', "[[1]]"]
KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
LOCATED = re.compile(r"^(survmeta \w+: error: )?(?P<path>[^:]+):(\d+: |\s)")

BUNDLED = (REPO / "studies.toml").read_text(encoding="utf-8").splitlines()
KEY_LINES = [i for i, ln in enumerate(BUNDLED) if KEY_LINE.match(ln)]


@st.composite
def mutations(draw):
    """Up to three edits of the bundled registry: ``(line, kind, choice, pick)`` each."""
    return [(draw(st.sampled_from(KEY_LINES)),
             draw(st.sampled_from(["value", "number", "key", "drop", "duplicate"])),
             draw(st.integers(0, len(NASTY) - 1)), draw(st.integers(0, 7)))
            for _ in range(draw(st.integers(1, 3)))]


def mutate(edits) -> str:
    """The bundled registry with ``edits`` applied (see :func:`mutations`)."""
    lines = list(BUNDLED)
    for i, kind, choice, pick in edits:
        m = KEY_LINE.match(lines[i])
        if m is None:  # an earlier edit removed the key
            continue
        indent, key, eq, value = m.groups()
        nasty = NASTY[choice]
        if kind == "value":
            lines[i] = f"{indent}{key}{eq}{nasty}"
        elif kind == "number" and NUMBER.search(value):
            hits = list(NUMBER.finditer(value))
            hit = hits[pick % len(hits)]
            lines[i] = f"{indent}{key}{eq}{value[:hit.start()]}{nasty}{value[hit.end():]}"
        elif kind == "key":
            renamed = [key + "x", key[:-1] or "k", "notes", "acknowledged"][pick % 4]
            lines[i] = f"{indent}{renamed}{eq}{value}"
        elif kind == "drop":
            lines[i] = ""
        elif kind == "duplicate":
            lines.insert(i, lines[i])
    return "\n".join(lines) + "\n"


@settings(max_examples=150, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=mutations())
def test_a_mutated_registry_is_refused_with_a_located_message_or_reconstructed(
        edits, tmp_path_factory, capsys):
    path = tmp_path_factory.mktemp("fuzz") / "studies.toml"
    path.write_text(mutate(edits), encoding="utf-8")
    for command in ("check", "reconstruct"):
        code = main([command, str(path)])  # no exception escapes main
        err = capsys.readouterr().err
        assert code in (0, 2), (command, code, err)
        if code == 2:
            lines = [ln for ln in err.splitlines() if ln.strip()]
            assert lines
            for ln in lines:
                m = LOCATED.match(ln)
                assert m and m.group("path") == str(path), ln
            return
