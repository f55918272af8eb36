"""The registry: what each paper reported, validated.

Read a ``studies.toml`` registry (or a CSV of effects) into frozen records,
reporting every problem with its file, line, study, comparison and field.
See ``docs/registry.md`` for the format and the validation rules.

Examples
--------
>>> from survmeta.registry import load_registry, check   # doctest: +SKIP
>>> registry = load_registry("studies.toml")             # doctest: +SKIP
>>> [p.format() for p in check("studies.toml")]          # doctest: +SKIP
"""

from survmeta.errors import Problem, RegistryError
from survmeta.registry.effects_csv import load_effects_csv
from survmeta.registry.load import check, check_text, load, load_registry, load_registry_text
from survmeta.registry.records import (
    NR,
    Arm,
    Comparison,
    DirectEffect,
    LogRank,
    Outcome,
    PValue,
    Question,
    Registry,
    ReportedHR,
    RiskOfBias,
    Study,
)

__all__ = [
    "NR",
    "Arm",
    "Comparison",
    "DirectEffect",
    "LogRank",
    "Outcome",
    "PValue",
    "Problem",
    "Question",
    "Registry",
    "RegistryError",
    "ReportedHR",
    "RiskOfBias",
    "Study",
    "check",
    "check_text",
    "load",
    "load_effects_csv",
    "load_registry",
    "load_registry_text",
]
