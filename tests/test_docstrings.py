"""Every docstring example in the package runs and prints what it shows."""
import doctest
import importlib
import pathlib

import numpy as np
import pytest

import chainrule

SRC = pathlib.Path(chainrule.__file__).parent
MODULES = sorted(
    "chainrule" + "".join("." + part for part in p.relative_to(SRC).with_suffix("").parts)
    .replace(".__init__", "")
    for p in SRC.rglob("*.py") if p.name != "__main__.py")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    chainrule.manual_seed(0)
    result = doctest.testmod(module, extraglobs={"chainrule": chainrule, "np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
                             verbose=False, report=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
