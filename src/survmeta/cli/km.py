"""``survmeta km export PATH STUDY/COMPARISON``: the patient data reconstructed from the curves.

Writes, as CSV, the event/censoring table of both arms that the Guyot
reconstruction (:mod:`survmeta.reconstruction.km`) rebuilds from the digitised
Kaplan-Meier curves: one row per arm and time with the events, the
censorings and the patients at risk just before, or with ``--per-patient``
one row per patient (``arm,label,time,event``), ready for any survival
package.
"""

from __future__ import annotations

import sys


def add_parser(subparsers) -> None:
    """Register the ``km`` command and its ``export`` subcommand."""
    parser = subparsers.add_parser(
        "km", help="Kaplan-Meier curves: export the reconstructed patient data",
        description="Work with the digitised Kaplan-Meier curves of a registry.")
    sub = parser.add_subparsers(dest="km_command", metavar="SUBCOMMAND", required=True)
    export = sub.add_parser(
        "export", help="write the reconstructed event/censoring table of a comparison as CSV",
        description="Write the patient data reconstructed from a comparison's digitised curves "
                    "(Guyot 2012) as CSV.")
    export.add_argument("path", metavar="PATH", help="registry (.toml)")
    export.add_argument("key", metavar="STUDY/COMPARISON", help="the comparison, e.g. trial/os")
    export.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    export.add_argument("--per-patient", action="store_true",
                        help="one row per patient (arm,label,time,event) instead of one per time")
    export.set_defaults(func=run_export)


def export_frame(registry, key: str, per_patient: bool = False):
    """The reconstructed table of comparison ``key`` as a DataFrame.

    Raises
    ------
    SurvmetaError
        An unknown comparison, or one without curves for both arms.
    """
    import pandas as pd

    from survmeta.errors import SurvmetaError
    from survmeta.reconstruction.km_effect import arm_ipd

    try:
        c = registry.comparison(key)
    except KeyError:
        raise SurvmetaError(f"no comparison {key!r} in the registry (write STUDY/COMPARISON)") from None
    frames = []
    for name, arm in (("experimental", c.experimental), ("reference", c.reference)):
        if arm.km is None or (arm.n is None and arm.km.at_risk is None):
            raise SurvmetaError(f"comparison {key}: the {name} arm has no Kaplan-Meier curve with "
                                "a group size (n or an at-risk table)")
        ipd = arm_ipd(arm)
        if per_patient:
            time, event = ipd.patients()
            frames.append(pd.DataFrame({"arm": name, "label": arm.label, "time": time,
                                        "event": event}))
        else:
            frames.append(pd.DataFrame({"arm": name, "label": arm.label, "time": ipd.times,
                                        "events": ipd.events, "censored": ipd.censored,
                                        "at_risk": ipd.at_risk()}))
    return pd.concat(frames, ignore_index=True)


def run_export(args) -> int:
    """Write the CSV; return the exit code."""
    import os
    import tempfile
    from pathlib import Path

    from survmeta.registry import load

    frame = export_frame(load(args.path), args.key, args.per_patient)
    if args.out is None:
        frame.to_csv(sys.stdout, index=False, float_format="%.6g")
        return 0
    out = Path(args.out)
    # written whole or not at all
    fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", suffix=".csv.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False, float_format="%.6g")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {out} ({len(frame)} rows)", file=sys.stderr)
    return 0
