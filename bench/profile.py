"""Where the time goes: ``python -m bench.profile W2 [engine] [--steps N] [--top 15]``.

Runs the workload's step under cProfile (after a warm-up) and prints the functions with the
most time spent in their own code (``tottime``), for whoever optimises the engine.
"""
import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def profile(case_id, engine="chainrule", steps=None, top=15, seconds=2.0):
    """Print the ``top`` functions by tottime over ``steps`` steps (default: about ``seconds``)."""
    from bench import CASES, build
    program = build(CASES[case_id], engine)
    t = time.perf_counter()
    program.step()                           # warm-up, and the step time
    if steps is None:
        steps = max(1, round(seconds / (time.perf_counter() - t)))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        program.step()
    profiler.disable()
    print(f"{case_id} on {engine}: {steps} steps under cProfile (times include its overhead)")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("case")
    p.add_argument("engine", nargs="?", default="chainrule")
    p.add_argument("--steps", type=int)
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args(argv)
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    profile(args.case, args.engine, args.steps, args.top)


if __name__ == "__main__":
    main()
