"""The benchmark suite's correctness side: every workload's gradients, on every installed engine,
agree with NumPy by hand (what ``python -m bench --quick --check-only`` checks), and the report
is built right.  No timing is asserted anywhere.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:        # bench/ lives at the repository root, beside src/
    sys.path.insert(0, str(ROOT))

import bench  # noqa: E402
from bench import CASES, ENGINES, Program, check, engine_available, report  # noqa: E402
from bench.__main__ import main, subprocess_env, parse  # noqa: E402

QUICK_CASES = [cid for cid, c in CASES.items() if c.check_in_quick]


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("cid", QUICK_CASES)
def test_gradients_agree_with_numpy_by_hand(cid, engine):
    case = CASES[cid]
    if not engine_available(engine):
        pytest.skip(f"{engine} is not installed")
    result = check(case, engine)            # raises AssertionError on a wrong gradient
    if engine not in case.workload().BUILDERS:
        assert result["status"] == "n/a"
    elif engine == "micrograd" and case.module == "w4_chain":
        assert result == dict(result, status="limit", note="RecursionError")
    else:
        assert result["status"] == "ok", result
        assert result["max_rel_err"] <= case.workload().RTOL


GRAPH_CASES = [cid for cid, c in CASES.items() if c.graph_memory]


@pytest.mark.parametrize("engine", ["chainrule", "numpy", "torch"])
@pytest.mark.parametrize("cid", GRAPH_CASES)
def test_graph_memory_cases_measure_a_repeatable_forward(cid, engine):
    """W7's graph-memory measurement runs ``forward()`` and then what it returns, again and
    again: each round gives the gradients that the check compared with NumPy by hand."""
    if not engine_available(engine):
        pytest.skip(f"{engine} is not installed")
    program = bench.build(CASES[cid], engine)
    assert program.forward is not None
    first = program.forward()()
    finish = program.forward()
    again = finish()
    assert sorted(first) == sorted(again)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])


def test_every_case_has_a_numpy_reference_and_a_chainrule_version():
    for case in CASES.values():
        builders = case.workload().BUILDERS
        assert "numpy" in builders and "chainrule" in builders, case.id
        assert case.workload().RTOL < 1e-3


def test_a_case_checked_at_another_size_checks_the_timed_program_too():
    """W8 is checked in float64 (AdamW amplifies float32 rounding of tiny gradients); the
    worker then compares the float32 program it times, gradients only."""
    from bench import _worker
    case = CASES["W8"]
    assert bench.check_size(case)["dtype"] == "float64" and case.size.get("dtype") is None
    out = _worker.run("W8", "chainrule", check_only=True)
    assert out["status"] == "ok", out
    assert out["max_rel_err"] <= 1e-9 < out["max_rel_err_timed"] <= case.workload().RTOL


def test_a_wrong_gradient_is_caught(monkeypatch):
    workload = CASES["W2"].workload()
    right = workload.BUILDERS["chainrule"]

    def wrong(d):
        program = right(d)
        grads = program.grads
        return Program(program.step, lambda: {**grads(), "b2": grads()["b2"] * 1.01},
                       program.params)

    monkeypatch.setitem(workload.BUILDERS, "chainrule", wrong)
    with pytest.raises(AssertionError, match=r"W2 on chainrule: ∂loss/∂b2: differs from NumPy"):
        check(CASES["W2"], "chainrule")
    assert main(["--check-only", "--cases", "W2", "--engines", "chainrule"]) == 1


def test_a_wrong_update_is_caught(monkeypatch):
    workload = CASES["W1"].workload()
    right = workload.BUILDERS["chainrule"]

    def no_update(d):
        program = right(d)
        return Program(lambda: None, program.grads, program.params)

    monkeypatch.setitem(workload.BUILDERS, "chainrule", no_update)
    with pytest.raises(AssertionError, match="change of w in two SGD steps"):
        check(CASES["W1"], "chainrule")


def test_compare_names_the_worst_element():
    want = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert bench.compare("g", want * (1 + 1e-12), want, 1e-9) <= 1e-9
    got = want.copy()
    got[1, 0] = 3.5
    with pytest.raises(AssertionError, match=r"g: differs .* by 0\.125 .* element \(1, 0\)"):
        bench.compare("g", got, want, 1e-6)
    with pytest.raises(AssertionError, match="shape"):
        bench.compare("g", want[0], want, 1e-6)
    with pytest.raises(AssertionError):
        bench.compare("g", want * np.nan, want, 1e-6)


def test_check_only_command(capsys):
    assert main(["--quick", "--check-only", "--cases", "W1,W4-200k",
                 "--engines", "chainrule,numpy"]) == 0
    out = capsys.readouterr().out
    assert "W1       chainrule  ok" in out
    assert "W4-200k  not checked with --quick" in out


def test_unknown_names_are_refused():
    with pytest.raises(SystemExit, match="unknown case W9"):
        parse(["--cases", "W9"])
    with pytest.raises(SystemExit, match="unknown engine jax"):
        parse(["--engines", "jax"])


def test_blas_variables_are_unset_for_subprocesses_only(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    env, note = subprocess_env(parse([]))
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_CORETYPE=Haswell" in note
    assert str(ROOT / "src") in env["PYTHONPATH"].split(":")
    env, note = subprocess_env(parse(["--keep-blas-env"]))
    assert env["OPENBLAS_CORETYPE"] == "Haswell"


def _result(case, engine, us=None, status="ok", note="", rss=None):
    r = {"case": case, "engine": engine, "status": status, "note": note}
    if us is not None:
        r["median_us"] = us
    if rss is not None:
        r["peak_rss_mib"] = rss
    return r


def test_report_ratios_and_targets():
    results = [
        _result("W1", "chainrule", 20.0), _result("W1", "numpy", 5.0),
        _result("W1", "torch", 100.0), _result("W1", "micrograd", 10.0),
        _result("W2", "chainrule", 300.0), _result("W2", "numpy", 100.0),
        _result("W2", "torch", 400.0),
        _result("W3", "chainrule", 1000.0, rss=60.0), _result("W3", "numpy", 1000.0, rss=50.0),
        _result("W4-10k", "chainrule", 10_000.0), _result("W4-10k", "torch", 30_000.0),
        _result("W4-10k", "micrograd", status="limit", note="RecursionError"),
        _result("W4-200k", "chainrule", 250_000.0, rss=2048.0),
        _result("W4-200k", "torch", 600_000.0),
        _result("W6", "chainrule", status="skipped", note="chainrule.nn has no Conv2d yet"),
    ]
    v = {(t["case"], t["text"]): t for t in report.verdicts(results)}
    assert v["W1", "≤ 0.25× PyTorch"]["value"] == 20.0 / 100.0
    assert v["W1", "≤ 0.25× PyTorch"]["met"] is True
    assert v["W1", "stretch: ≤ micrograd"]["met"] is False
    assert v["W2", "≤ 1.5× NumPy"]["met"] is False          # 3×
    assert v["W3", "≤ 1.05× NumPy"]["met"] is True           # 1×
    assert v["W3", "peak RSS ≤ 1.25× NumPy"]["value"] == 60.0 / 50.0
    assert v["W4-200k", "≤ 22× the 10k time"]["value"] == 25.0
    assert v["W4-200k", "≤ 22× the 10k time"]["met"] is False
    assert v["W4-200k", "peak RSS < 1 GiB"]["met"] is False
    assert v["W6", "≤ 3× PyTorch"]["met"] is None            # not measured
    text = report.markdown({"date": "D", "mode": "quick run"}, results)
    w1 = next(line for line in text.splitlines() if line.startswith("| **W1**"))
    assert "| 20.0 | 5.00 | 100 | — | 10.0 | 4.00× | 0.20× |" in w1
    assert "✓ ≤ 0.25× PyTorch (0.20×)" in w1 and "✗ stretch: ≤ micrograd (2.00×)" in w1
    assert "RecursionError" in text and "skipped" in text
    assert "✗ peak RSS < 1 GiB (2,048 MiB)" in text
    assert "Targets met: 5 of 9 measured" in text
    assert "- W6 on chainrule: skipped: chainrule.nn has no Conv2d yet" in text


def test_report_graph_memory_rows():
    results = [_result("W1", "chainrule", 20.0), _result("W1", "torch", 100.0)]
    for engine, mib in (("chainrule", 80.0), ("numpy", 4.0), ("torch", 4.0)):
        results.append(dict(_result("W7-add", engine), graph_mib=mib))
    for engine, mib in (("chainrule", 90.0), ("numpy", 80.0), ("torch", 80.0)):
        results.append(dict(_result("W7-tanh", engine), graph_mib=mib))
    v = {(t["case"], t["kind"]): t for t in report.verdicts(results)}
    assert v["W7-add", "graph"]["value"] == 20.0 and v["W7-add", "graph"]["met"] is False
    assert v["W7-tanh", "graph"]["value"] == 90.0 / 80.0 and v["W7-tanh", "graph"]["met"] is True
    assert v["W7-MLP", "graph"]["met"] is None
    text = report.markdown({"date": "D", "mode": "quick run"}, results,
                           ["chainrule", "numpy", "torch"])
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()
            if line.startswith("| **")}
    assert set(rows) == {"**W1**", "**W7-add**", "**W7-tanh**"}      # no time row for W7
    assert rows["**W7-add**"] == ("| **W7-add** | 80.0 | 4.0 | 4.0 | 20× | 20× | "
                                  "✗ ≤ 1.25× PyTorch (20×) |")
    assert "✓ ≤ 1.25× PyTorch (1.12×)" in rows["**W7-tanh**"]
    assert "MALLOC_MMAP_THRESHOLD_=65536" in text
    from bench import plot
    labels = [b[0] for b in plot.bars(results)]
    assert labels[-2:] == ["W7-add held before backward ÷ PyTorch",
                           "W7-tanh held before backward ÷ PyTorch"]


def test_formatting():
    assert [report.fmt_us(x) for x in (4.4, 19.25, 320.4, 8572.0, 1404970.0)] == \
        ["4.40", "19.2", "320", "8,572", "1,404,970"]
    assert [report.fmt_ratio(x) for x in (0.234, 1.05, 23.4, None)] == \
        ["0.23×", "1.05×", "23×", "—"]


def test_measure_end_to_end(tmp_path):
    """The subprocess path: probe, one worker per engine, latest.md and latest.json."""
    code = main(["--quick", "--reps", "1", "--cases", "W1", "--engines", "chainrule,numpy",
                 "--keep-blas-env", "--out", str(tmp_path), "--no-plot"])
    assert code == 0
    saved = json.loads((tmp_path / "latest.json").read_text())
    by = {r["engine"]: r for r in saved["results"]}
    assert by["chainrule"]["status"] == "ok" and by["numpy"]["status"] == "ok"
    assert by["chainrule"]["median_us"] > 0 and len(by["chainrule"]["times_us"]) >= 1
    assert saved["meta"]["machine"]["versions"]["numpy"] == np.__version__
    text = (tmp_path / "latest.md").read_text()
    assert "| **W1** |" in text and "chainrule / NumPy" in text


def test_graph_memory_end_to_end(tmp_path):
    """A graph-memory case goes through a worker started with the allocator setting it needs,
    and its rows are written; what it measures is not asserted."""
    code = main(["--quick", "--reps", "1", "--cases", "W7-add", "--engines", "chainrule,numpy",
                 "--keep-blas-env", "--out", str(tmp_path), "--no-plot"])
    assert code == 0
    saved = json.loads((tmp_path / "latest.json").read_text())
    for r in saved["results"]:
        assert r["status"] == "ok", r
        assert r["malloc_mmap_threshold"] == "65536"
        assert len(r["graph_samples_mib"]) == 1 and isinstance(r["graph_mib"], float)
        assert "median_us" not in r                 # not timed
    assert "| **W7-add** |" in (tmp_path / "latest.md").read_text()


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from bench import plot
    results = [_result("W1", "chainrule", 20.0), _result("W1", "numpy", 5.0),
               _result("W1", "torch", 100.0), _result("W3", "chainrule", 10.0, rss=60.0),
               _result("W3", "numpy", 9.0, rss=50.0)]
    labels = [b[0] for b in plot.bars(results)]
    assert labels == ["W1  ÷ NumPy", "W1  ÷ PyTorch", "W3  ÷ NumPy", "W7 W3 peak RSS ÷ NumPy"]
    src = tmp_path / "r.json"
    src.write_text(json.dumps({"meta": {"mode": "test"}, "results": results}))
    png = plot.draw(src, tmp_path / "r.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_busy_machine_is_flagged():
    meta = {"machine": {"cpus_usable": 2}, "load_average": {"start": 0.1, "end": 0.2}}
    assert "busy" not in "\n".join(report.header_lines(meta))
    meta["load_average"]["end"] = 3.5
    assert "The machine was busy" in "\n".join(report.header_lines(meta))


def test_ab_exports_a_commit_and_prints_the_table(tmp_path):
    """``python -m bench.ab``: a commit's src/ comes out of git and is what its workers import;
    the table's ratios are the median of the rounds' own ratios and the best runs'."""
    import argparse
    from bench import ab
    if not ab._git("rev-parse", "--verify", "--quiet", "HEAD").strip():
        pytest.skip("not a git checkout")
    src, label = ab.export("HEAD", tmp_path)
    assert (src / "chainrule" / "__init__.py").is_file() and label.startswith("HEAD (")
    ab.check_import(src, ab.environment(src))
    assert ab.export(".", tmp_path) == (ROOT / "src", "the working tree")
    with pytest.raises(SystemExit, match="not a commit"):
        ab.export("no-such-commit", tmp_path)
    with pytest.raises(SystemExit):
        ab.parse(["HEAD", "HEAD", "--cases", "W7-add"])       # not timed
    args = argparse.Namespace(engine="chainrule", rounds=3, reps=5)
    text = ab.table({"W1": ([40.0, 50.0, 44.0], [20.0, 26.0, 23.0])}, ["x", "y"], args)
    assert "| W1 | 44.0 | 23.0 | 0.520× | 40.0 | 20.0 | 0.500× |" in text
