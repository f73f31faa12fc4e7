"""pyproject.toml lists every package, so nothing is left out of an installed chainrule."""
import pathlib

import pytest

tomllib = pytest.importorskip("tomllib")     # Python 3.11+

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT / "src").parts)
             for p in (ROOT / "src" / "chainrule").rglob("__init__.py")}
    assert found - listed == set(), f"add these to [tool.setuptools] packages: {found - listed}"
    assert config["package-dir"]["chainrule.examples"] == "examples"
    assert (ROOT / "examples" / "__init__.py").exists()
    missing = {p for p in listed - {"chainrule.examples"}
               if not (ROOT / "src" / p.replace(".", "/") / "__init__.py").exists()}
    assert not missing, f"listed in pyproject but not in src/: {missing}"
