"""The training examples learn: each runs briefly (fewer epochs) and must clear a lower bar
that still proves learning.  Their full targets are measured by `chainrule train` (README)."""
import subprocess
import sys

import pytest

from chainrule.cli import TRAIN_EXAMPLES, load_example



def _run(name, *options):
    return load_example(TRAIN_EXAMPLES[name]).main(["--quiet", *options])


def test_digits_mlp_learns():
    result = _run("digits-mlp", "--epochs", "3")
    assert result["test accuracy"] > 0.9          # chance is 0.1


def test_digits_cnn_learns():
    result = _run("digits-cnn", "--epochs", "2")
    assert result["test accuracy"] > 0.8


def test_breast_cancer_logistic_learns():
    pytest.importorskip("sklearn")
    result = _run("breast-cancer-logistic", "--epochs", "10")
    assert result["test accuracy"] > 0.93         # the majority class is 0.63


def test_diabetes_linear_approaches_least_squares():
    pytest.importorskip("sklearn")
    result = _run("diabetes-linear", "--epochs", "150")
    assert result["test R2"] > result["scikit-learn R2"] - 0.05


def test_moons_learns_a_nonlinear_boundary():
    result = _run("moons", "--epochs", "30")
    assert result["test accuracy"] > 0.9          # a linear boundary gets about 0.87


def test_train_command_runs_an_example():
    pytest.importorskip("sklearn")
    r = subprocess.run([sys.executable, "-m", "chainrule", "train", "breast-cancer-logistic",
                        "--epochs", "2"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "epoch   2/2" in r.stdout + r.stderr
    assert "test accuracy" in r.stdout


def test_plot_is_saved(tmp_path):
    pytest.importorskip("matplotlib")
    _run("moons", "--epochs", "2", "--plot", str(tmp_path / "moons.png"))
    assert (tmp_path / "moons.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_extra_is_one_line_not_a_traceback(monkeypatch, capsys):
    from chainrule import cli

    class Example:
        @staticmethod
        def main(options, prog=None):
            raise ImportError('needs scikit-learn: pip install "chainrule[data]"')

    monkeypatch.setattr(cli, "load_example", lambda name: Example)
    assert cli.main(["train", "digits-mlp"]) == 1
    assert 'digits-mlp: needs scikit-learn: pip install "chainrule[data]"' in capsys.readouterr().err


def _without_sklearn(monkeypatch):
    """Hide scikit-learn, as on the README's base install (``pip install .``: NumPy only)."""
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)        # import sklearn raises ImportError


def test_digits_ship_with_chainrule(monkeypatch):
    from chainrule.datasets import load_digits
    _without_sklearn(monkeypatch)
    with pytest.raises(ImportError):
        import sklearn  # noqa: F401
    X, y = load_digits()
    assert tuple(X.shape) == (1797, 64) and tuple(y.shape) == (1797,)
    assert str(X.dtype) == "chainrule.float32" and str(y.dtype) == "chainrule.int64"
    assert X.min().item() == 0 and X.max().item() == 16 and sorted(set(y.tolist())) == list(range(10))
    monkeypatch.undo()
    datasets = pytest.importorskip("sklearn.datasets")
    X_sk, y_sk = datasets.load_digits(return_X_y=True)
    assert (X.numpy() == X_sk).all() and (y.numpy() == y_sk).all()


def test_digits_mlp_trains_without_sklearn(monkeypatch, capsys):
    from chainrule import cli
    _without_sklearn(monkeypatch)
    assert cli.main(["train", "digits-mlp", "--epochs", "1", "--quiet"]) == 0
    assert "test accuracy" in capsys.readouterr().out


def test_the_digits_file_is_package_data():
    tomllib = pytest.importorskip("tomllib")
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "digits.npz" in config["package-data"]["chainrule.datasets"]
    assert (root / "src" / "chainrule" / "datasets" / "digits.npz").stat().st_size < 100_000
