"""Rendering of command output as a table, JSON or CSV."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import numpy as np
import pandas as pd

FORMATS = ("table", "json", "csv")

#: Columns a table keeps to unless ``--wide`` is given (an 100-column terminal).
WIDTH = 100

#: A text column is never cut below this many characters.
MIN_TEXT = 10


def add_wide_option(parser) -> None:
    parser.add_argument("--wide", action="store_true",
                        help=f"print tables in full (by default long text cells are cut to fit "
                             f"{WIDTH} columns, marked with '~')")


def fit_width(df: pd.DataFrame, width: int = WIDTH, float_format: str = "{:.4g}") -> tuple[pd.DataFrame, bool]:
    """Cut the longest text cells so the rendered table fits ``width`` columns.

    Numbers are never cut; a text column is cut to no fewer than :data:`MIN_TEXT` characters,
    the cut marked ``~``. Returns the table and whether anything was cut.
    """
    def render(frame):
        return frame.to_string(index=False, float_format=lambda x: float_format.format(x))

    def too_wide(frame):
        return max((len(line) for line in render(frame).splitlines()), default=0) > width

    out = df.copy()
    text_cols = [c for c in out.columns
                 if pd.api.types.is_object_dtype(out[c]) or pd.api.types.is_string_dtype(out[c])]
    for c in text_cols:
        out[c] = [v if isinstance(v, str) else ("" if v is None or v is pd.NA else str(v))
                  for v in out[c]]
    cut = False
    while too_wide(out):
        lengths = {c: max((len(v) for v in out[c]), default=0) for c in text_cols}
        col = max(lengths, key=lengths.get, default=None)
        if col is None or lengths[col] <= MIN_TEXT:
            break
        new = max(MIN_TEXT, lengths[col] - max(1, (lengths[col] - MIN_TEXT) // 4))
        out[col] = [v if len(v) <= new else v[: new - 1] + "~" for v in out[col]]
        cut = True
    return out, cut


def add_format_option(parser, choices=FORMATS, default="table") -> None:
    parser.add_argument(
        "--format",
        choices=choices,
        default=default,
        help=f"output format (default: {default})",
    )


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON types (NaN -> null)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return None if math.isnan(x) or math.isinf(x) else x
    if obj is pd.NA or obj is None:
        return None
    return obj


def dumps_json(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False)


def emit_frame(df: pd.DataFrame, fmt: str, stream=None, float_format: str = "{:.4g}",
               wide: bool = True) -> None:
    """Write a DataFrame as an aligned table, JSON records or CSV.

    With ``wide=False`` a table's long text cells are cut to fit :data:`WIDTH` columns
    (:func:`fit_width`) and a line says so.
    """
    stream = stream or sys.stdout
    cut = False
    if fmt == "table" and not wide and len(df):
        df, cut = fit_width(df, float_format=float_format)
    if fmt == "json":
        stream.write(dumps_json(df.to_dict(orient="records")) + "\n")
    elif fmt == "csv":
        df.to_csv(stream, index=False)
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None,
                               "display.width", 200, "display.max_colwidth", 60):
            stream.write(df.to_string(index=False, float_format=lambda x: float_format.format(x)) + "\n")
        if cut:
            stream.write(f"(long cells cut to fit {WIDTH} columns, marked '~'; --wide or "
                         "--format csv|json for the full text)\n")
