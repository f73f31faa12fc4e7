"""The lecture's script, with only its imports changed, prints exactly what PyTorch prints."""
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "lecture_linear.py"
# Captured from PyTorch 2.13.0 running the original script (imports `torch`).
GOLDEN = (pathlib.Path(__file__).parent / "golden_lecture_linear.txt").read_text()


def _run(source):
    return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout


def test_only_the_imports_differ_from_the_lecture():
    lines = SCRIPT.read_text().splitlines()
    assert lines[0] == "import chainrule as torch"
    assert lines[1] == "from chainrule.autograd import Variable"
    assert "chainrule" not in "\n".join(lines[2:])


def test_lecture_prints_what_pytorch_prints():
    assert _run(SCRIPT.read_text()) == GOLDEN
    assert len(GOLDEN.splitlines()) == 33


def test_torch_itself_prints_the_golden_output():
    pytest.importorskip("torch")
    original = SCRIPT.read_text().replace("import chainrule as torch", "import torch").replace(
        "from chainrule.autograd import", "from torch.autograd import")
    assert _run(original) == GOLDEN
