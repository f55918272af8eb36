"""``survmeta metareg``: the command against the API on dat.bcg (moderator: year)."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from survmeta.cli import main
from survmeta.exact import rma_mods

#: dat.bcg (metafor): tpos, tneg, cpos, cneg and year; log risk ratios as escalc(measure="RR").
BCG = ((4, 119, 11, 128, 1948), (6, 300, 29, 274, 1949), (3, 228, 11, 209, 1960),
       (62, 13536, 248, 12619, 1977), (33, 5036, 47, 5761, 1973), (180, 1361, 372, 1079, 1953),
       (8, 2537, 10, 619, 1973), (505, 87886, 499, 87892, 1980), (29, 7470, 45, 7232, 1968),
       (17, 1699, 65, 1600, 1961), (186, 50448, 141, 27197, 1974), (5, 2493, 3, 2338, 1969),
       (27, 16886, 29, 17825, 1976))


def _bcg():
    y = np.array([math.log((a / (a + b)) / (c / (c + d))) for a, b, c, d, _ in BCG])
    s = np.sqrt([1 / a - 1 / (a + b) + 1 / c - 1 / (c + d) for a, b, c, d, _ in BCG])
    return y, s, np.array([r[4] for r in BCG], dtype=float)


@pytest.fixture
def effects_csv(tmp_path):
    y, s, year = _bcg()
    path = tmp_path / "effects.csv"
    lines = ["study,estimate,se,question,year"]
    lines += [f"trial{i + 1},{float(a)!r},{float(b)!r},bcg,{int(t)}"
              for i, (a, b, t) in enumerate(zip(y, s, year))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("method,test", [("REML", "z"), ("DL", "knha"), ("EE", "z")])
def test_json_equals_the_api(effects_csv, capsys, method, test):
    assert main(["metareg", str(effects_csv), "--question", "bcg", "--mods", "year",
                 "--method", method, "--test", test, "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    y, s, year = _bcg()
    want = rma_mods(y, s, {"year": year}, method=method, test=test)
    assert got["question"] == "bcg" and got["k"] == 13
    assert [c["name"] for c in got["coefficients"]] == ["intrcpt", "year"]
    for c, w in zip(got["coefficients"], want.coefficients):
        assert c["estimate"] == pytest.approx(w.estimate, rel=1e-9)
        assert c["se"] == pytest.approx(w.se, rel=1e-9)
    assert got["tau2"] == pytest.approx(want.tau2, rel=1e-9, abs=1e-12)
    assert got["QM"] == pytest.approx(want.QM, rel=1e-9)


def test_csv_and_text(effects_csv, capsys):
    assert main(["metareg", str(effects_csv), "--question", "bcg", "--mods", "year",
                 "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["term"] for r in rows] == ["intrcpt", "year"] and rows[0]["question"] == "bcg"
    assert main(["metareg", str(effects_csv), "--question", "bcg", "--mods", "year"]) == 0
    out = capsys.readouterr().out
    assert "QE(df = 11)" in out and "QM(df = 1)" in out and "year" in out
    # metafor 3.8.1, rma(yi, vi, mods = ~ year) on dat.bcg (tests/reference/metafor_pval.Rout):
    # "QE(df = 11) = 100.1782, p-val < .0001", "QM(df = 1) = 2.6858, p-val = 0.1012"
    assert "QE(df = 11) = 100.1782, p < 0.0001" in out, out
    assert "QM(df = 1) = 2.6858, p = 0.1012" in out, out


def test_knha_prints_f(effects_csv, capsys):
    assert main(["metareg", str(effects_csv), "--question", "bcg", "--mods", "year",
                 "--test", "knha"]) == 0
    assert "F(df1 = 1, df2 = 11)" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["--mods", "yaer"], "unknown moderator 'yaer' (did you mean 'year'?); available: year"),
    (["--mods", "n"], "moderator 'n': no value for trial1"),
    (["--mods", ","], "name at least one moderator"),
    (["--mods", "year", "--question", "nope"], "unknown question 'nope'"),
])
def test_bad_input_exit_2(effects_csv, capsys, argv, message):
    base = ["metareg", str(effects_csv), "--question", "bcg"]
    assert main(base + argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_file_and_help(tmp_path, capsys):
    assert main(["metareg", str(tmp_path / "none.toml"), "--question", "q", "--mods", "year"]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["metareg", "--help"])
    assert exc.value.code == 0
    assert "--mods" in capsys.readouterr().out


def test_plot_writes_a_png(effects_csv, tmp_path, capsys):
    out = tmp_path / "bubble.png"
    assert main(["metareg", str(effects_csv), "--question", "bcg", "--mods", "year",
                 "--plot", str(out), "--format", "json"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote" in capsys.readouterr().err


# --------------------------------------------------------------------- Bayesian engines

#: Short MCMC runs for the command tests (the agreement itself is tested in
#: tests/models/test_metareg.py).
MCMC_ARGS = ["--draws", "300", "--tune", "300", "--chains", "2", "--seed", "7"]


def _bayes(effects_csv, engine, fmt, *extra):
    return ["metareg", str(effects_csv), "--question", "bcg", "--mods", "year",
            "--engine", engine, "--format", fmt, *extra]


def test_exact_engine_json_equals_bmr(effects_csv, capsys):
    from survmeta.exact import bmr

    assert main(_bayes(effects_csv, "exact", "json", "--tau-prior", "halfnormal(0.5)",
                       "--beta-sd", "10,1")) == 0
    got = json.loads(capsys.readouterr().out)
    y, s, year = _bcg()
    want = bmr(y, s, {"year": year}, tau_prior="halfnormal(0.5)", beta_sd=[10.0, 1.0])
    assert got["engine"] == "exact" and got["beta_prior"] == "normal" and got["diagnostics"] is None
    for c, w in zip(got["coefficients"], want.coefficients):
        assert c["name"] == w.name
        assert (c["mean"], c["lower"], c["upper"]) == pytest.approx((w.mean, w.lower, w.upper),
                                                                    rel=1e-12)
    assert got["tau"]["median"] == pytest.approx(want.tau.median, rel=1e-12)


def test_exact_engine_does_not_import_pymc(effects_csv, capsys):
    import subprocess
    import sys

    code = ("import sys; from survmeta.cli import main; "
            f"main({_bayes(effects_csv, 'exact', 'csv')!r}); "
            "assert 'pymc' not in sys.modules, 'pymc imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.mcmc
def test_mcmc_engine_prints_the_exact_columns(effects_csv, capsys):
    tables = {}
    for engine in ("exact", "mcmc"):
        extra = MCMC_ARGS if engine == "mcmc" else []
        assert main(_bayes(effects_csv, engine, "csv", *extra)) == 0
        tables[engine] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    exact, mcmc = tables["exact"], tables["mcmc"]
    assert list(mcmc[0]) == list(exact[0]) == ["question", "engine", "term", "mean", "sd",
                                               "median", "lower", "upper"]
    assert [r["term"] for r in mcmc] == [r["term"] for r in exact] == ["intrcpt", "year"]
    assert {r["engine"] for r in mcmc} == {"mcmc"}
    # a loose check of the numbers: the slope's mean within half a posterior SD of the exact
    # one (its MCSE with 600 draws is about 0.05 SD)
    m, e = float(mcmc[1]["mean"]), float(exact[1]["mean"])
    assert abs(m - e) < 0.5 * float(exact[1]["sd"])

    assert main(_bayes(effects_csv, "mcmc", "json", *MCMC_ARGS)) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["engine"] == "mcmc" and got["diagnostics"]["divergences"] == 0
    assert got["diagnostics"]["random_seed"] == 7 and got["diagnostics"]["sampler"] == "pymc"
    assert main(_bayes(effects_csv, "mcmc", "table", *MCMC_ARGS)) == 0
    out = capsys.readouterr().out
    assert "PyMC (NUTS)" in out and "divergences 0" in out
    assert out.splitlines()[5].split() == ["term", "mean", "sd", "median", "lower", "upper"]


@pytest.mark.parametrize("argv,message", [
    (["--engine", "exact", "--method", "DL"], "--method and --test belong to the frequentist"),
    (["--engine", "mcmc", "--test", "knha"], "--method and --test belong to the frequentist"),
    (["--engine", "exact", "--beta-sd", "1,x"], "--beta-sd: expected numbers"),
    (["--engine", "exact", "--beta-mean", "0"], "beta_mean needs beta_sd"),
    (["--engine", "exact", "--tau-prior", "halfnormal("], "question 'bcg'"),
    (["--engine", "mcmc", "--draws", "0"], "--draws must be at least 1"),
    (["--engine", "exact", "--plot", "b.png"], "--plot: the bubble plot is drawn from the "
                                                "frequentist fit"),
])
def test_bayes_bad_input_exit_2(effects_csv, capsys, argv, message):
    base = ["metareg", str(effects_csv), "--question", "bcg", "--mods", "year"]
    assert main(base + argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_help_names_the_engines(capsys):
    with pytest.raises(SystemExit):
        main(["metareg", "--help"])
    out = capsys.readouterr().out
    assert "--engine" in out and "mcmc" in out and "--sampler" in out and "--seed" in out


def test_a_beta_sd_of_the_wrong_length_is_a_clear_error(capsys, effects_csv):
    """Three coefficient SDs for two coefficients (intercept, year): a clear message, exit 2."""
    code = main(["metareg", str(effects_csv), "--question", "bcg", "--mods", "year",
                 "--engine", "exact", "--beta-sd", "1,2,3"])
    assert code == 2
    err = capsys.readouterr().err
    assert "need one value or 2 (intercept first)" in err and "Traceback" not in err
