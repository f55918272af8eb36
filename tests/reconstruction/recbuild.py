"""Builders of registry records for the reconstruction tests.

Records are built directly from :mod:`survmeta.registry.records` (the
contract between the registry and reconstruction).
"""

from __future__ import annotations


from survmeta.registry.records import Arm, Comparison, PValue


def pval(text: str, sided: int = 2) -> PValue:
    """A PValue as the loader would build it from its printed text."""
    t = text.strip()
    if t.upper() == "NS":
        return PValue(text=t, value=None, relation="NS", sided=sided)
    if t[0] in "<>":
        return PValue(text=t, value=float(t[1:]), relation=t[0], sided=sided)
    return PValue(text=t, value=float(t), relation="=", sided=sided)


def comparison(experimental: Arm | None = None, reference: Arm | None = None, **kw) -> Comparison:
    """A comparison with placeholder ids, quote and location."""
    base = dict(
        id=kw.pop("id", "c1"),
        study_id=kw.pop("study_id", "s1"),
        question=kw.pop("question", "q1"),
        endpoint=kw.pop("endpoint", "OS"),
        quote=kw.pop("quote", "as printed"),
        location=kw.pop("location", "Results"),
        experimental=experimental or Arm("exp"),
        reference=reference or Arm("ref"),
    )
    base.update(kw)
    return Comparison(**base)


