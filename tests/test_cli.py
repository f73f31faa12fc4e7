"""The command line: every mistake a user can type is one line on stderr naming the problem and
the fix, exit status 2, no traceback; the example's own help shows its defaults."""
import builtins
import io
import os
import subprocess
import sys

import pytest

from chainrule import cli

EXAMPLES = ["breast-cancer-logistic", "diabetes-linear", "digits-cnn", "digits-mlp", "moons"]


def _usage_error(capsys, argv):
    """Run ``chainrule argv``: it must stop with status 2 and one line on stderr."""
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("option, value", [("--epochs", "0"), ("--epochs", "-3"),
                                           ("--epochs", "x"), ("--batch-size", "0"),
                                           ("--lr", "-1"), ("--lr", "nan")])
def test_bad_training_options_are_refused_before_training(capsys, option, value):
    line = _usage_error(capsys, ["train", "moons", option, value])
    assert line.startswith(f"chainrule train moons: argument {option}:")
    assert value in line and "chainrule train moons --help" in line


def test_train_without_an_example_lists_them(capsys):
    line = _usage_error(capsys, ["train"])
    assert "chainrule train EXAMPLE" in line
    assert all(name in line for name in EXAMPLES)


def test_train_with_an_unknown_example_lists_them(capsys):
    line = _usage_error(capsys, ["train", "mnist"])
    assert "'mnist'" in line and all(name in line for name in EXAMPLES)


def test_no_command_says_what_to_type(capsys):
    line = _usage_error(capsys, [])
    assert "chainrule tour" in line and "chainrule train EXAMPLE" in line


def test_example_help_shows_its_own_usage_and_defaults(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "moons", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: chainrule train moons [-h]")
    assert "(default: 200)" in out and "(default: 64)" in out      # moons' epochs, batch size


def test_plot_without_matplotlib_is_refused_before_training(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)            # import matplotlib fails
    monkeypatch.setitem(sys.modules, "matplotlib.backend_bases", None)
    line = _usage_error(capsys, ["train", "moons", "--plot", "curves.png"])
    assert "matplotlib" in line and 'pip install "chainrule[train]"' in line


@pytest.mark.parametrize("where", ["folder", "unwritable", "suffix"])
def test_plot_to_a_bad_path_is_refused_before_training(capsys, tmp_path, where):
    pytest.importorskip("matplotlib")
    if where == "unwritable":
        if os.geteuid() == 0:
            pytest.skip("root can write anywhere")
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        path = locked / "curves.png"
    else:
        path = tmp_path if where == "folder" else tmp_path / "curves.xyz"
    line = _usage_error(capsys, ["train", "moons", "--plot", str(path)])
    assert line.startswith("chainrule train moons: --plot")
    assert not os.path.exists(tmp_path / "curves.xyz")


def test_plot_to_a_file_under_a_file_is_refused(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "a-file").write_text("")
    line = _usage_error(capsys, ["train", "moons", "--plot", str(tmp_path / "a-file" / "c.png")])
    assert "can't write the plot" in line


def test_quiet_prints_only_the_result(capsys):
    cli.main(["train", "digits-mlp", "--epochs", "1", "--quiet"])
    out, err = capsys.readouterr()
    assert out.splitlines() == [l for l in out.splitlines() if l.startswith("test accuracy")]
    assert len(out.splitlines()) == 1 and err == ""


def test_negative_seed_is_accepted(capsys):
    # torch.manual_seed(-1) is accepted (taken modulo 2**64): the CLI must not refuse it
    assert cli.main(["train", "moons", "--epochs", "1", "--seed", "-1", "--quiet"]) == 0
    assert "test accuracy" in capsys.readouterr().out


def test_diabetes_progress_shows_the_loss():
    pytest.importorskip("sklearn")
    err = io.StringIO()
    from chainrule.cli import TRAIN_EXAMPLES, load_example
    example = load_example(TRAIN_EXAMPLES["diabetes-linear"])
    old = sys.stderr
    sys.stderr = err
    try:
        example.main(["--epochs", "200"])
    finally:
        sys.stderr = old
    lines = [l for l in err.getvalue().splitlines() if "loss" in l]
    assert len(lines) == 2, err.getvalue()
    assert all("nan" not in l for l in lines)
    first, last = (float(l.rsplit(" ", 1)[1]) for l in lines)
    assert 0 < last < first


def test_ctrl_c_during_training_is_a_clean_exit(capsys, monkeypatch):
    class Example:
        @staticmethod
        def main(options, prog=None):
            raise KeyboardInterrupt
    monkeypatch.setattr(cli, "load_example", lambda name: Example)
    assert cli.main(["train", "moons"]) == 130
    err = capsys.readouterr().err
    assert "stopped" in err and "Traceback" not in err


def test_tour_ctrl_c_at_a_pause_is_a_clean_exit(capsys, monkeypatch, tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    def interrupted(prompt=""):
        raise KeyboardInterrupt
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(builtins, "input", interrupted)
    assert cli.main(["tour", "--out", str(tmp_path / "t")]) == 130
    out, err = capsys.readouterr()
    assert "1. The computation graph" in out and "2. The loss" not in out
    assert err.strip().splitlines() == [err.strip()] and "stopped" in err
    assert "Traceback" not in err


def test_tour_to_an_unwritable_folder_stops_before_printing(capsys, tmp_path):
    (tmp_path / "a-file").write_text("")
    line = _usage_error(capsys, ["tour", "--no-pause", "--out", str(tmp_path / "a-file" / "t")])
    assert line.startswith("chainrule tour: --out:") and "folder you can write to" in line


def _run(*args):
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True,
                          text=True, timeout=120)


def test_errors_through_the_real_command_line(tmp_path):
    for args in (["train"], ["train", "moons", "--epochs", "0"],
                 ["train", "moons", "--batch-size", "0"], ["tour", "--out", "/proc/x"]):
        r = _run(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert "Traceback" not in r.stderr
