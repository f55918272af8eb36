"""Sphinx configuration of survmeta's API reference (``./run docs``).

Sphinx alone: autodoc imports the package, so the signatures shown are the
real ones, and napoleon (bundled with Sphinx) reads the numpydoc-style
docstrings. Nothing is fetched at build time; ``-W`` turns every warning
into an error, so a broken docstring fails CI.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "src")))

from survmeta import __version__  # noqa: E402

project = "survmeta"
release = version = __version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # an Attributes section as fields, not a second description of each attribute
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
html_theme = "alabaster"
html_static_path: list[str] = []
exclude_patterns = ["_build"]
# numpydoc sections napoleon does not know keep their heading as a rubric
napoleon_custom_sections = [("Formula", "notes_style"), ("Raises", "raises_style")]
# a short name such as ``path`` in a docstring matches several dataclass fields; these
# ambiguous cross-references resolve to the first and are not errors
suppress_warnings = ["ref.python"]
