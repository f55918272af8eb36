"""Rendering of command output as a table, JSON or CSV."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import numpy as np
import pandas as pd

FORMATS = ("table", "json", "csv")


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


def emit_frame(df: pd.DataFrame, fmt: str, stream=None, float_format: str = "{:.4g}") -> None:
    """Write a DataFrame as an aligned table, JSON records or CSV."""
    stream = stream or sys.stdout
    if fmt == "json":
        stream.write(dumps_json(df.to_dict(orient="records")) + "\n")
    elif fmt == "csv":
        df.to_csv(stream, index=False)
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None,
                               "display.width", 200, "display.max_colwidth", 60):
            stream.write(df.to_string(index=False, float_format=lambda x: float_format.format(x)) + "\n")
