"""Every docstring example in the package runs and prints what it shows.

An example that needs an optional package (scikit-learn, safetensors, graphviz, matplotlib, tqdm,
torch) is skipped, with a reason naming the package, when that package is not installed: the
suite passes on the base install.  Any other failure fails.
"""
import doctest
import importlib
import io
import pathlib
import sys

import numpy as np
import pytest

import chainrule

SRC = pathlib.Path(chainrule.__file__).parent
MODULES = sorted(
    "chainrule" + "".join("." + part for part in p.relative_to(SRC).with_suffix("").parts)
    .replace(".__init__", "")
    for p in SRC.rglob("*.py") if p.name != "__main__.py")

# import name -> what pip installs (and the extra that brings it)
OPTIONAL = {"sklearn": "scikit-learn", "safetensors": "safetensors", "graphviz": "graphviz",
            "matplotlib": "matplotlib", "tqdm": "tqdm", "torch": "torch"}

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
DOCTESTS = [t for name in MODULES
            for t in doctest.DocTestFinder().find(importlib.import_module(name),
                                                  extraglobs={"chainrule": chainrule, "np": np})
            if t.examples]


def _missing_optional(exc):
    """The optional package whose absence raised ``exc`` (directly, or as the cause or context
    of chainrule's own "pip install ..." error), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ImportError) and exc.name:
            top = exc.name.split(".")[0]
            if top in OPTIONAL:
                try:
                    importlib.import_module(top)
                except ImportError:
                    return OPTIONAL[top]
        exc = exc.__cause__ or exc.__context__
    return None


class _Runner(doctest.DocTestRunner):
    """Records the optional packages whose absence made an example raise."""

    def __init__(self):
        super().__init__(optionflags=FLAGS, verbose=False)
        self.missing = set()

    def report_unexpected_exception(self, out, test, example, exc_info):
        pkg = _missing_optional(exc_info[1])
        if pkg is not None:
            self.missing.add(pkg)
        super().report_unexpected_exception(out, test, example, exc_info)


def run_docstring(test):
    """Run one docstring's examples: skip if an optional package is missing, else assert."""
    runner = _Runner()
    report = io.StringIO()
    chainrule.manual_seed(0)
    result = runner.run(test, out=report.write, clear_globs=False)
    if runner.missing:
        pytest.skip(f"{test.name}: needs {' and '.join(sorted(runner.missing))}, which is not "
                    "installed")
    assert result.failed == 0, f"{result.failed} example(s) of {test.name}'s docstring " \
                               f"failed:\n{report.getvalue()}"


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_examples(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_docstring(_copy(test))


def _copy(test):
    """A fresh DocTest (its own globals), so that one run cannot leak into another."""
    return doctest.DocTest(test.examples, dict(test.globs), test.name, test.filename,
                           test.lineno, test.docstring)


def _doctest(source, name="example"):
    return doctest.DocTestParser().get_doctest(source, {"chainrule": chainrule, "np": np},
                                               name, None, 0)


def test_an_example_needing_a_missing_optional_package_is_skipped(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    # as if scikit-learn and tqdm were not installed: importing them raises
    for name in ("sklearn", "tqdm"):
        monkeypatch.setitem(sys.modules, name, None)
    # an example importing a missing optional package directly
    with pytest.raises(pytest.skip.Exception, match="needs scikit-learn"):
        run_docstring(_doctest(">>> import sklearn.datasets\n"))
    # chainrule's way: an error naming the extra, raised ``from None`` inside the library
    with pytest.raises(pytest.skip.Exception, match="needs tqdm"):
        run_docstring(_doctest(">>> try:\n...     import tqdm\n... except ImportError:\n"
                               "...     raise ImportError('pip install tqdm') from None\n"))


def test_other_failures_are_not_skipped(monkeypatch):
    with pytest.raises(AssertionError, match="1 example"):
        run_docstring(_doctest(">>> 1 + 1\n3\n"))
    # a missing module that is not one of the optional extras is a failure
    with pytest.raises(AssertionError, match="no_such_module"):
        run_docstring(_doctest(">>> import no_such_module_for_chainrule\n"))
    # an optional package that *is* importable: its ImportError is a real failure
    monkeypatch.setitem(sys.modules, "tqdm", importlib.import_module("json"))
    with pytest.raises(AssertionError):
        run_docstring(_doctest(">>> raise ModuleNotFoundError('no', name='tqdm')\n"))
