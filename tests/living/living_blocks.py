"""Registry blocks shared by the living-review tests."""

#: An invented study for the small test registry (tests/living/data/mini.toml).
NEW_STUDY = """\
# a study published after the last update
[[study]]
id = "delta2025"
citation = "Delta D, et al. Test J. 2025;4:1-9."  # invented for the tests
year = 2025
design = "retrospective cohort"
population = "advanced NSCLC"

[[study.comparison]]
id = "os"
question = "oligo_vs_systemic"
endpoint = "OS"
quote = "HR 0.45 (95% CI 0.25-0.81)"
location = "Abstract"
experimental = { label = "oligo", n = 30 }
reference = { label = "systemic", n = 40 }
hr = { estimate = 0.45, ci = [0.25, 0.81] }
"""
