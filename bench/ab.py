"""Two commits' chainrule side by side, in one run: ``python -m bench.ab A B``.

    python -m bench.ab HEAD~1 HEAD                 # W1 and W4-10k, 7 rounds
    python -m bench.ab main . --rounds 9           # "." is the working tree's src/, uncommitted
    python -m bench.ab v1 v2 --cases W1,W2,W4-10k  # any timed case of python -m bench

Each side's ``src/`` is exported with ``git archive`` into a temporary folder (the repository,
its index and its worktree list are left alone), and the workers of ``python -m bench`` run with
``PYTHONPATH`` pointing at that ``src/`` and at this checkout's ``bench/``: the same workloads
and gradient checks, only the engine differs.  The runs alternate (A B, then B A, ...) so that a
machine getting busier or quieter weighs on both sides alike; each run is a fresh process that
checks the gradients and then times a median per step.  The table gives, per case, each side's
median over the rounds and its best run, and B / A as the median of the rounds' own ratios
(below 1: B is faster).
"""
import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from bench import CASES
from bench._worker import MARK

ROOT = Path(__file__).resolve().parent.parent
WORKTREE = "."
# as python -m bench does: these slow NumPy's OpenBLAS (bench/__main__.py)
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n")[0])
    p.add_argument("a", nargs="?", default="HEAD~1", help="a commit, or '.' (default HEAD~1)")
    p.add_argument("b", nargs="?", default="HEAD", help="a commit, or '.' (default HEAD)")
    p.add_argument("--cases", default="W1,W4-10k", help="comma-separated (default W1,W4-10k)")
    p.add_argument("--engine", default="chainrule",
                   help="the engine to time (default chainrule; numpy shows the noise floor)")
    p.add_argument("--rounds", type=int, default=7, help="runs per side and case (default 7)")
    p.add_argument("--reps", type=int, default=5, help="repetitions within a run (default 5)")
    p.add_argument("--rep-s", type=float, default=0.1, help="seconds per repetition")
    p.add_argument("--threads", type=int, help="BLAS/OpenMP threads for the workers")
    args = p.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in args.cases if c not in CASES or CASES[c].graph_memory]
    if unknown:
        p.error(f"unknown or untimed case {', '.join(unknown)}; choose from "
                + ", ".join(c for c in CASES if not CASES[c].graph_memory))
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def export(rev, into):
    """``rev``'s ``src/`` under ``into``; (the src folder, a label such as 'HEAD~1 (ad1a6f8)')."""
    if rev == WORKTREE:
        return ROOT / "src", "the working tree"
    sha = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    if not sha:
        raise SystemExit(f"python -m bench.ab: {rev!r} is not a commit of {ROOT}")
    data = subprocess.run(["git", "archive", "--format=tar", sha, "src"], cwd=ROOT,
                          capture_output=True, check=True).stdout
    folder = Path(into) / sha[:12]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        try:
            tar.extractall(folder, filter="data")
        except TypeError:                   # Python before 3.10.12 / 3.11.4: our own archive
            tar.extractall(folder)
    return folder / "src", f"{rev} ({sha[:7]})"


def _git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout


def environment(src, threads=None):
    env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(src), str(ROOT)])
    if threads:
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(threads)
    return env


def worker(args, env, timeout=600):
    """Run ``python -m bench._worker *args`` and return the dict it printed."""
    proc = subprocess.run([sys.executable, "-m", "bench._worker", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "note": f"exit status {proc.returncode}: {tail}"}
    return json.loads(lines[-1][len(MARK):])


def check_import(src, env):
    """Fail unless a worker started with ``env`` imports chainrule from ``src``."""
    found = worker(["--probe", "--engines", "chainrule"], env).get("chainrule_path")
    if not found or Path(found).resolve() != (Path(src) / "chainrule").resolve():
        raise SystemExit(f"python -m bench.ab: the workers import chainrule from {found}, "
                         f"not from {src}; is another chainrule first on sys.path?")


def run(args, out=print):
    """Measure; returns {case: {side: [median µs per run]}} and prints the table."""
    tmp = tempfile.mkdtemp(prefix="chainrule-ab-")
    try:
        sides = [export(rev, tmp) for rev in (args.a, args.b)]
        envs = [environment(src, args.threads) for src, _ in sides]
        for (src, _), env in zip(sides, envs):
            check_import(src, env)
        flags = [f"--reps={args.reps}", f"--min-reps={min(3, args.reps)}",
                 f"--rep-s={args.rep_s}", "--warmup-s=0.2", "--budget-s=20"]
        if args.threads:
            flags.append(f"--threads={args.threads}")
        samples = {c: ([], []) for c in args.cases}
        for k in range(args.rounds):
            order = (0, 1) if k % 2 == 0 else (1, 0)
            for case in args.cases:
                for side in order:
                    r = worker([case, args.engine, *flags], envs[side])
                    if r.get("status") != "ok":
                        raise SystemExit(f"python -m bench.ab: {case} on {sides[side][1]}: "
                                         f"{r.get('status')}: {r.get('note')}")
                    samples[case][side].append(r["median_us"])
                    out(f"round {k + 1}/{args.rounds}  {case:8} {'AB'[side]}  "
                        f"{r['median_us']:12,.1f} µs", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out("")
    out(table(samples, [label for _, label in sides], args))
    return samples


def table(samples, labels, args):
    """The before/after table in Markdown.

    B / A is the median over rounds of each round's B over the same round's A: the two ran one
    after the other, so a change in the machine's load between rounds cancels.  The best run of
    each side (the least disturbed by other processes) gives a second ratio.
    """
    lines = [f"A = {labels[0]}, B = {labels[1]}: {args.engine}, µs per step; {args.rounds} "
             f"rounds, each a run of A and one of B in alternating order (a run: a fresh "
             f"process, the median of {args.reps} repetitions). B / A below 1: B is faster.", "",
             "| case | A, median | B, median | B / A, median of the rounds' | A, best | B, best "
             "| B / A, best |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for case, (a, b) in samples.items():
        paired = statistics.median(y / x for x, y in zip(a, b))
        lines.append(f"| {case} | {_us(statistics.median(a))} | {_us(statistics.median(b))} | "
                     f"{paired:.3f}× | {_us(min(a))} | {_us(min(b))} | {min(b) / min(a):.3f}× |")
    return "\n".join(lines)


def _us(x):
    return f"{x:,.1f}" if x < 1000 else f"{x:,.0f}"


def main(argv=None):
    args = parse(argv)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
