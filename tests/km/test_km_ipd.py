"""Method ``km_ipd``: chosen before every median- or p-based method, with its PH check and RMST.

Data: seeded simulated trials (tests/km/kmdata.py); the reference values are the
fits of the simulated patient data themselves (survmeta.reconstruction.cox, checked
against R's survival in tests/exact/test_survival_cox.py).
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

from survmeta.reconstruction import DEFAULT_ORDER, METHODS, reconstruct
from survmeta.reconstruction.km_effect import EXTRA_SD, PH_ALPHA, cox_log_hr
from survmeta.registry import load_registry_text

from .kmdata import registry_text, simulate

#: |log HR| tolerance between the reconstruction and the true-data Cox fit, a trial of
#: 200 per arm digitised at every step with at-risk tables every 3 months.
TOL_LOG_HR = 0.03


def test_km_ipd_sits_after_observed_expected_and_before_joint():
    assert METHODS.index("km_ipd") == METHODS.index("observed_expected") + 1
    assert DEFAULT_ORDER.index("km_ipd") < DEFAULT_ORDER.index("joint")


def test_km_ipd_is_chosen_and_the_others_stay_alternatives():
    arms = simulate(21)
    row = reconstruct(load_registry_text(registry_text(arms))).iloc[0]
    truth, _ = cox_log_hr(*arms[0], *arms[1])
    assert row.method == "km_ipd" and row.approximate
    assert row.log_hr == pytest.approx(truth, abs=TOL_LOG_HR)
    assert row.se_extra == EXTRA_SD[(True, False)]
    assert row.se == pytest.approx(np.hypot(row.se_sampling, row.se_extra))
    alternatives = {a["method"] for a in row.alternatives}
    assert {"joint", "median_ratio_p"} <= alternatives
    assert "non_proportional" not in row["flags"]


def test_log_rank_ph_check_and_rmst_are_kept(tmp_path):
    from survmeta.reconstruction import estimate_comparison
    from survmeta.reconstruction.cox import logrank

    arms = simulate(22)
    text = registry_text(arms, extra="rmst_horizon = 12\n")
    c = load_registry_text(text).comparison("sim/os")
    est = estimate_comparison(c).chosen
    (te, ee), (tr, er) = arms
    lr = logrank(np.r_[te, tr], np.r_[ee, er], np.r_[np.ones(len(te)), np.zeros(len(tr))])
    assert est.inputs["logrank"]["chisq"] == pytest.approx(lr.chisq, rel=0.1)
    rmst = est.inputs["rmst"]
    assert rmst["horizon"] == 12
    # closed form: RMST of the true data's KM; the reconstruction within 0.1 month
    from survmeta.reconstruction.km import rmst as rmst_fn

    from .kmdata import km_of

    true = [rmst_fn(*km_of(t, e), 12.0)[0] for t, e in arms]
    assert rmst["experimental"] == pytest.approx(true[0], abs=0.1)
    assert rmst["difference"] == pytest.approx(true[0] - true[1], abs=0.1)
    assert 0 < est.inputs["ph_test"]["p"] <= 1


def test_crossing_hazards_are_flagged_non_proportional():
    from survmeta.reconstruction.cox import cox_fit, ph_test

    arms = simulate(23, n=300, crossing=True)
    row = reconstruct(load_registry_text(registry_text(arms))).iloc[0]
    assert "non_proportional" in row["flags"]
    assert any("Grambsch-Therneau" in w for w in row.warnings)
    # the true data say the same
    (te, ee), (tr, er) = arms
    time, event = np.r_[te, tr], np.r_[ee, er]
    fit = cox_fit(time, event, np.r_[np.ones(len(te)), np.zeros(len(tr))])
    assert ph_test(fit, time, event, transform="km").p < PH_ALPHA


def test_without_at_risk_tables_the_flag_and_the_larger_extra_sd():
    arms = simulate(24)
    row = reconstruct(load_registry_text(registry_text(arms, with_table=False, with_events=True))).iloc[0]
    assert row.method == "km_ipd" and "km_no_at_risk" in row["flags"]
    assert row.se_extra == EXTRA_SD[(False, True)]


def test_km_effect_does_not_import_lifelines():
    """lifelines caps pandas below 3 and is no dependency: nothing may import it again."""
    from survmeta.reconstruction import cox, km_effect

    for module in (km_effect, cox):
        source = inspect.getsource(module)
        assert "import lifelines" not in source and "from lifelines" not in source


def test_km_ipd_works_with_lifelines_unimportable(monkeypatch):
    monkeypatch.setitem(sys.modules, "lifelines", None)  # any import of it raises ImportError
    with pytest.raises(ImportError):
        import lifelines  # noqa: F401
    arms = simulate(21)
    row = reconstruct(load_registry_text(registry_text(arms))).iloc[0]
    truth, _ = cox_log_hr(*arms[0], *arms[1])
    assert row.method == "km_ipd"
    assert row.log_hr == pytest.approx(truth, abs=TOL_LOG_HR)


def test_importing_the_core_does_not_import_lifelines():
    code = ("import survmeta, survmeta.registry, survmeta.reconstruction, sys; "
            "print('lifelines' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


#: Swap tolerance for km_ipd: the reconstruction is symmetric and only the Cox fit's Newton
#: iterations (stopped at a step below 1e-12) and rounding separate the two fits.
SWAP_KM = 1e-9


def test_swapping_arms_negates_the_km_ipd_estimate():
    from survmeta.reconstruction import estimate_comparison

    arms = simulate(25)
    a = estimate_comparison(load_registry_text(registry_text(arms)).comparison("sim/os")).chosen
    text = registry_text(arms[::-1]).replace('label = "A"', 'label = "tmp"').replace(
        'label = "B"', 'label = "A"').replace('label = "tmp"', 'label = "B"')
    b = estimate_comparison(load_registry_text(text).comparison("sim/os")).chosen
    assert b.log_hr == pytest.approx(-a.log_hr, abs=SWAP_KM)
    assert b.se == pytest.approx(a.se, rel=SWAP_KM)
