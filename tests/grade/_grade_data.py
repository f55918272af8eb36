"""A two-study registry with a recorded GRADE rating, for the GRADE-input tests.

Events: s1 30 + 50 (the arms), s2 95 (total_events): 175 in all.
"""

REGISTRY = '''\
schema_version = 1

[[question]]
id = "oligo"
title = "Oligo- vs systemic progression"
experimental = "oligo-progression"
reference = "systemic progression"
outcome = "OS"
certainty = { rating = "low", reasons = ["risk of bias: retrospective cohorts", "imprecision"], indirectness = "oligo-progression <= 3 or <= 5 lesions" }

[[question]]
id = "other"
title = "Other"
experimental = "a"
reference = "b"
outcome = "OS"

[[study]]
id = "s1"
citation = "Author A. J One. 2020;1:1."
year = 2020
design = "retrospective cohort"
population = "NSCLC"

[[study.comparison]]
id = "os"
question = "oligo"
endpoint = "OS"
quote = "HR 0.50 (95% CI 0.30-0.83)"
location = "Table 2"
hr = { estimate = 0.50, ci = [0.30, 0.83] }
experimental = { label = "oligo", n = 60, events = 30 }
reference = { label = "systemic", n = 80, events = 50 }

[[study]]
id = "s2"
citation = "Author B. J Two. 2021;2:2."
year = 2021
design = "retrospective cohort"
population = "NSCLC"

[[study.comparison]]
id = "os"
question = "oligo"
endpoint = "OS"
quote = "HR 0.70 (95% CI 0.45-1.09)"
location = "Table 3"
hr = { estimate = 0.70, ci = [0.45, 1.09] }
total_events = 95
experimental = { label = "oligo", n = 70 }
reference = { label = "systemic", n = 90 }

[[study.comparison]]
id = "os_other"
question = "other"
endpoint = "OS"
quote = "HR 0.90 (95% CI 0.60-1.35)"
location = "Table 3"
hr = { estimate = 0.90, ci = [0.60, 1.35] }
experimental = { label = "a", n = 70 }
reference = { label = "b", n = 90 }
'''
