"""The README's Python examples run as written (and print what the README says they print)."""
import contextlib
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_readme_python_block_runs(k, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)              # blocks may save files
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(BLOCKS[k], f"README.md python block {k}", "exec"), {"__name__": "readme"})
    # each `print(...)  # expected` comment in the block is checked against what was printed
    printed = out.getvalue()
    for expected in re.findall(r"print\(.*\)[ \t]+# (.+)", BLOCKS[k]):
        head = expected.split(":")[0].strip()
        assert head in printed, f"README block {k} says {expected!r}; it printed:\n{printed}"


def test_readme_has_blocks():
    assert len(BLOCKS) >= 3
