"""Sphinx configuration of the oggm-glaunti documentation.

Build (warnings are errors, nitpicky cross-references)::

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

The build runs offline: it downloads nothing (see the notes on intersphinx and salem
below). ``tests/test_docs.py`` runs the same build.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList

ROOT = Path(__file__).resolve().parents[1]
# Document the checkout, also when the package is not installed (or installed elsewhere).
sys.path.insert(0, str(ROOT))

# salem (imported by OGGM, which autodoc imports through oggm_glaunti.integration) downloads
# its sample data at first import unless a placeholder exists; there is no network here.
# offline.py imports neither OGGM nor salem, so this runs before their first import.
from oggm_glaunti.integration.session.offline import prepare_salem_cache  # noqa: E402

prepare_salem_cache()

import oggm_glaunti  # noqa: E402

# -- Project -----------------------------------------------------------------------------
project = "oggm-glaunti"
author = "the oggm-glaunti developers"
copyright = "oggm-glaunti developers; GlaUnTI: Maslov et al.; OGGM: the OGGM developers"
release = oggm_glaunti.__version__
version = release

# -- General -----------------------------------------------------------------------------
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

# MyST: Markdown pages stay Markdown. Heading anchors let pages link to sections
# ([text](concepts.md#state-rules)); dollar math for formulas.
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# -- autodoc / autosummary / numpydoc ------------------------------------------------------
autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
    "show-inheritance": True,
}
# Types are documented in the numpydoc "Parameters" sections; signatures stay readable.
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# Objects are shown by their names; the module is the section they are in.
add_module_names = False
# No generated stub files: the API pages list their modules themselves (see the
# ``glaunti-modules`` directive below); autosummary only draws summary tables.
autosummary_generate = False
# autodoc's :members: documents class members; numpydoc's extra member tables would
# duplicate them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Parameter types stay plain text: they are often descriptive ("array (n_months,)",
# "path-like", "oggm.GlacierDirectory"), not importable names.
numpydoc_xref_param_type = False

# -- Cross-references ----------------------------------------------------------------------
# There is no network on the build machines, so intersphinx (which downloads the other
# projects' inventories) is off. References to other projects' objects - from signature
# annotations (numpy.ndarray, jax.Array, xarray.Dataset, ...) and base classes
# (equinox.Module, OGGM's MassBalanceModel) - therefore cannot resolve; they are ignored
# here, for these external packages only. References to this package's own objects are
# still checked (nitpicky mode, -n).
_EXTERNAL = (
    "numpy", "np", "jax", "jnp", "jaxlib", "jaxtyping", "equinox", "eqx", "optax",
    "xarray", "xr", "pandas", "pd", "oggm", "salem", "affine", "rasterio", "shapely",
    "pyproj", "geopandas", "matplotlib", "pooch", "scipy", "tqdm", "dask", "distributed", "dask_jobqueue",
)
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(_EXTERNAL)})(\..*)?"),
]
# The Python standard library's inventory is not available offline either: these
# standard-library names appear in signatures and docstrings.
nitpick_ignore = [
    ("py:class", "pathlib.Path"),
    ("py:class", "os.PathLike"),
    ("py:class", "argparse.Namespace"),
    ("py:class", "argparse.ArgumentParser"),
    ("py:class", "argparse._SubParsersAction"),
    ("py:func", "os.replace"),
    ("py:class", "types.FrameType"),
    # ``from jax import Array``: with postponed annotations the signatures name it "Array".
    # (autodoc_type_aliases would show "jax.Array" but yields unresolvable
    # TypeAliasForwardRef references in Sphinx 9.)
    ("py:class", "Array"),
]

# -- HTML ------------------------------------------------------------------------------------
try:
    import furo  # noqa: F401

    html_theme = "furo"
except ImportError:  # the docs extra installs furo; alabaster ships with Sphinx
    html_theme = "alabaster"
html_title = f"oggm-glaunti {release}"
html_static_path: list[str] = []
html_show_sourcelink = False


# -- The API pages' module lists ----------------------------------------------------------------
def public_modules(package: str) -> list[str]:
    """The package and its public submodules (no ``_private`` name anywhere), sorted."""
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


class GlauntiModules(Directive):
    """``.. glaunti-modules:: package`` - one section with ``automodule`` per public module.

    Modules are found at build time, so a new module appears in the API reference without
    editing the docs. Options (space-separated module names relative to the package, ``.``
    for the package itself): ``:first:`` lists modules to
    put first, in that order (the others follow alphabetically; names that are not, or no
    longer, modules of the package are skipped: the option only orders); ``:exclude:``
    modules to leave out.
    """

    required_arguments = 1
    option_spec = {"first": directives.unchanged, "exclude": directives.unchanged}

    def run(self):
        package = self.arguments[0]
        exclude = set((self.options.get("exclude") or "").split())
        def full(name: str) -> str:  # names are relative to the package; "." is the package
            return package if name == "." else f"{package}.{name}"

        exclude = {full(name) for name in exclude}
        first = [full(name) for name in (self.options.get("first") or "").split()]
        found = public_modules(package)
        first = [name for name in first if name in found]
        lines: list[str] = []
        for name in first + [n for n in found if n not in first]:
            if name in exclude:
                continue
            title = f"``{name}``"
            # ignore-module-all: document each object once, where it is defined, not again
            # in the packages that re-export it (``__all__``).
            lines += [title, "-" * len(title), "", f".. automodule:: {name}",
                      "   :ignore-module-all:", ""]
        source = self.state_machine.input_lines.source(
            self.lineno - self.state_machine.input_offset - 1)
        # Insert as if written in the page (as ``.. include::`` does), so that the
        # section titles take the page's levels.
        self.state_machine.insert_input(StringList(lines, source), source)
        return []


class GlauntiParams(Directive):
    """``.. glaunti-params::`` - a table of the ``glaunti_*`` settings of ``cfg.PARAMS``
    with their defaults and documentation, read from
    :data:`oggm_glaunti.integration.session.params.GLAUNTI_DEFAULTS` (so it never drifts)."""

    def run(self):
        from oggm_glaunti.integration.session.params import GLAUNTI_DEFAULTS

        def cell(*children):
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *children)
            return entry

        def row(*cells):
            out = nodes.row()
            out.extend(cells)
            return out

        table = nodes.table(classes=["glaunti-params"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (30, 10, 60):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += row(*(cell(nodes.Text(t)) for t in ("cfg.PARAMS key", "default", "meaning")))
        group += head
        body = nodes.tbody()
        for key, (value, doc) in GLAUNTI_DEFAULTS.items():
            # the documentation strings quote names with single backticks (Markdown style)
            parts = re.split(r"`([^`]+)`", doc)
            text = [nodes.literal(p, p) if i % 2 else nodes.Text(p) for i, p in enumerate(parts)]
            body += row(cell(nodes.literal(key, key)), cell(nodes.literal(repr(value), repr(value))),
                        cell(*text))
        group += body
        return [table]


class GlauntiCliHelp(Directive):
    """``.. glaunti-cli-help:: COMMAND`` - the ``--help`` text of an ``oggm-glaunti``
    sub-command, taken from the argument parser at build time (so it never drifts).

    The sub-command is looked up in :func:`oggm_glaunti.cli.build_parser`, then among the
    training sub-commands (:func:`oggm_glaunti.training.commands.register`) should the CLI
    not list them (yet).
    """

    required_arguments = 1

    def run(self):
        import argparse

        command = self.arguments[0]
        columns = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "92"  # argparse wraps its help to this width
        try:
            parsers = [importlib.import_module("oggm_glaunti.cli").build_parser()]
            try:
                commands = importlib.import_module("oggm_glaunti.training.commands")
            except ImportError:
                commands = None
            if commands is not None:
                extra = argparse.ArgumentParser(prog="oggm-glaunti")
                commands.register(extra.add_subparsers(dest="command"))
                parsers.append(extra)
            for parser in parsers:
                for action in parser._actions:
                    if isinstance(action, argparse._SubParsersAction) and command in action.choices:
                        text = action.choices[command].format_help()
                        return [nodes.literal_block(text, text, language="text")]
        finally:
            if columns is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = columns
        raise self.error(f"glaunti-cli-help: oggm-glaunti has no sub-command {command!r}")


# -- Re-exported names ----------------------------------------------------------------------------
def _lookup(dotted: str):
    """The object a dotted name refers to, importing its module; None if it is not there."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:i]))
        if module is None:
            try:
                module = importlib.import_module(".".join(parts[:i]))
            except Exception:
                continue
        obj = module
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _canonical_names(obj, short: str, domain) -> list[str]:
    """Documented names under which ``obj`` is defined: ``module.qualname`` for functions
    and classes (and their methods); for data, the documented objects of the same short
    name that are this very object."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and module.startswith("oggm_glaunti"):
        return [f"{module}.{qualname}"]
    return [name for name in domain.objects
            if name.startswith("oggm_glaunti.") and name.rsplit(".", 1)[-1] == short
            and _lookup(name) is obj]


def resolve_reexports(app, env, node, contnode):
    """Resolve a reference to one of this package's objects by a name it is imported under.

    Docstrings name objects as the code uses them: ``oggm_glaunti.core.YearForcing`` (the
    package re-exports it), or ``WeightsError`` inside a module that imports it. Objects
    are documented once, where they are defined (``oggm_glaunti.core.forcing.YearForcing``).
    A reference that does not resolve is looked up the way Python would - in the module
    (and class) of the docstring, or as an absolute dotted name - and, if that yields one
    of this package's documented objects, linked there. Anything else stays unresolved
    (and is reported in nitpicky mode).
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    module, cls = node.get("py:module"), node.get("py:class")
    tries = [target]
    if module:
        tries += [f"{module}.{cls}.{target}"] if cls else []
        tries += [f"{module}.{target}"]
    domain = env.get_domain("py")
    for dotted in tries:
        if not dotted.startswith("oggm_glaunti"):
            continue
        obj = _lookup(dotted)
        if obj is None:
            continue
        for name in _canonical_names(obj, target.rsplit(".", 1)[-1], domain):
            if name in domain.objects:
                return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                           name, node, contnode)
    return None


def dataclass_factory_defaults(app, what, name, obj, options, signature, return_annotation):
    """Show ``field(default_factory=F)`` defaults as ``F()`` rather than ``<factory>``.

    ``<factory>`` is no Python expression: Sphinx cannot parse such a signature and falls
    back to splitting it at commas, which mangles annotations like ``tuple[int, ...]``.
    """
    if what != "class" or not signature or "<factory>" not in signature:
        return None
    import dataclasses

    if not dataclasses.is_dataclass(obj):
        return None
    for f in dataclasses.fields(obj):
        factory = f.default_factory
        if factory is not dataclasses.MISSING:
            label = getattr(factory, "__qualname__", "factory")
            label = f"{label}()" if "<lambda>" not in label else "..."
            signature = re.sub(rf"(\b{f.name}\s*:[^=]*=\s*)<factory>", rf"\g<1>{label}", signature)
    return signature, return_annotation


def setup(app):
    app.add_directive("glaunti-modules", GlauntiModules)
    app.add_directive("glaunti-params", GlauntiParams)
    app.add_directive("glaunti-cli-help", GlauntiCliHelp)
    app.connect("missing-reference", resolve_reexports)
    app.connect("autodoc-process-signature", dataclass_factory_defaults)
    return {"parallel_read_safe": True}

