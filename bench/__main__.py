"""``python -m bench``: run every workload on every engine, each in a fresh subprocess, and write
bench/results/latest.md, latest.json and ratios.png.

    python -m bench                    # the full run (about 10 minutes)
    python -m bench --quick            # about a minute: fewer, shorter repetitions
    python -m bench --check-only       # only the gradient checks, in this process (the test)
    python -m bench --cases W2,W3 --engines chainrule,numpy,torch

Exit status 1 if an engine's gradients disagree with NumPy by hand or a workload fails.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import CASES, ENGINES, check, engine_available, report
from chainrule._files import atomic_write, check_writable_folder

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
# W7's graph-memory workers: glibc gives every allocation of 64 KiB or more its own mapping and
# unmaps it when freed, so the resident set follows the arrays alive (see bench/_worker.py)
GRAPH_MEMORY_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}
# OpenBLAS tuning variables some machines set, which slow current NumPy's OpenBLAS; the suite
# unsets them for its own subprocesses only (never in tests or CI) and reports what it did.
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

FULL = {"reps": 7, "min_reps": 3, "rep_s": 0.2, "warmup_s": 0.3, "budget_s": 40.0,
        "timeout_s": 300}
QUICK = {"reps": 3, "min_reps": 1, "rep_s": 0.03, "warmup_s": 0.05, "budget_s": 3.0,
         "timeout_s": 120}


def parse(argv):
    p = argparse.ArgumentParser(
        prog="python -m bench", description="chainrule's benchmarks against NumPy by hand, "
        "PyTorch, HIPS autograd and micrograd; see docs/performance.md")
    p.add_argument("--quick", action="store_true",
                   help="about a minute: 3 short repetitions; W4-200k only on the fast engines")
    p.add_argument("--check-only", action="store_true",
                   help="only check every engine's gradients against NumPy by hand, in-process")
    p.add_argument("--cases", "--workloads", default=",".join(CASES),
                   help="comma-separated case ids (default: all): " + ",".join(CASES))
    p.add_argument("--engines", default=",".join(ENGINES),
                   help="comma-separated engines (default: all installed): " + ",".join(ENGINES))
    p.add_argument("--reps", type=int, help="repetitions per measurement (default 7, quick 3)")
    p.add_argument("--threads", type=int,
                   help="BLAS/OpenMP/PyTorch threads for the subprocesses (default: untouched)")
    p.add_argument("--keep-blas-env", action="store_true",
                   help="do not unset " + " and ".join(BLAS_ENV) + " for the subprocesses")
    p.add_argument("--out", default=str(RESULTS), help="where latest.md/.json/ratios.png go")
    p.add_argument("--no-plot", action="store_true", help="do not draw ratios.png")
    args = p.parse_args(argv)
    args.cases = _pick(args.cases, CASES, "case")
    args.engines = _pick(args.engines, ENGINES, "engine")
    return args


def _pick(text, known, what):
    chosen = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in known]
    if unknown:
        raise SystemExit(f"python -m bench: unknown {what} {', '.join(unknown)}; "
                         f"choose from {', '.join(known)}")
    return [x for x in known if x in chosen]     # table order


def main(argv=None):
    args = parse(argv)
    # this checkout's chainrule, here as in the subprocesses (see subprocess_env)
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    if args.check_only:
        return check_all(args)
    return measure(args)


def check_all(args):
    """Every engine's gradients against NumPy by hand, in this process; 1 if any disagree."""
    failed = 0
    for cid in args.cases:
        case = CASES[cid]
        if args.quick and not case.check_in_quick:
            print(f"{cid:8} not checked with --quick (the same code as "
                  f"{_same_code_as(case)}, longer)")
            continue
        for engine in args.engines:
            t = time.perf_counter()
            try:
                r = check(case, engine)
            except AssertionError as e:
                failed += 1
                r = {"status": "WRONG", "note": str(e)}
            except Exception as e:          # a workload that crashes fails the check too
                failed += 1
                r = {"status": "ERROR", "note": f"{type(e).__name__}: {e}"}
            err = f"max rel. error {r['max_rel_err']:.1e}" if r.get("max_rel_err") else ""
            detail = "  ".join(x for x in (err, r["note"]) if x)
            print(f"{cid:8} {engine:10} {r['status']:8} {time.perf_counter() - t:6.2f} s  "
                  f"{detail}".rstrip())
    return 1 if failed else 0


def _same_code_as(case):
    return next((c.id for c in CASES.values() if c.module == case.module and c is not case),
                case.id)


def measure(args):
    settings = dict(QUICK if args.quick else FULL)
    if args.reps:
        settings["reps"] = args.reps
    check_writable_folder(args.out, "the benchmark results")   # before minutes of work
    env, env_note = subprocess_env(args)
    started = time.perf_counter()
    load_start = _load()
    print("probing the machine ...", flush=True)
    machine = run_worker(["--probe", "--engines", ",".join(args.engines)], env,
                         settings["timeout_s"])
    results = []
    for cid in args.cases:
        case = CASES[cid]
        builders = case.workload().BUILDERS
        for engine in args.engines:
            if engine not in builders:
                r = {"case": cid, "engine": engine, "status": "n/a",
                     "note": "no version of this workload"}
            elif not engine_available(engine):
                r = {"case": cid, "engine": engine, "status": "n/a", "note": "not installed"}
            elif args.quick and case.quick_engines and engine not in case.quick_engines:
                r = {"case": cid, "engine": engine, "status": "skipped",
                     "note": "not timed with --quick (too slow); run without --quick"}
            else:
                r = run_worker([cid, engine, *worker_flags(settings, args)],
                               dict(env, **GRAPH_MEMORY_ENV) if case.graph_memory else env,
                               settings["timeout_s"], cid, engine)
            results.append(r)
            print(progress(r), flush=True)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "quick run" if args.quick else "full run",
        "command": "python -m bench" + (" --quick" if args.quick else ""),
        "machine": machine, "git": git_describe(), "env_note": env_note,
        "timing": timing_text(settings), "settings": settings,
        "seconds": round(time.perf_counter() - started, 1),
        "load_average": {"start": load_start, "end": _load()},
    }
    text = report.markdown(meta, results, args.engines)
    out = write_results(args.out, text, {"meta": meta, "results": results,
                                         "targets": report.verdicts(results)})
    print()
    print(text)
    if not args.no_plot:
        from bench import plot
        try:
            path = plot.draw(out / "latest.json", out / "ratios.png")
            print(f"chart: {path}")
        except (ImportError, ValueError) as e:
            print(f"no chart: {e}")
    print(f"written: {out / 'latest.md'}, {out / 'latest.json'} "
          f"({meta['seconds']:.0f} s)")
    bad = [r for r in results if r["status"] in ("wrong", "error")]
    return 1 if bad else 0


def write_results(folder, text, payload):
    """``latest.md`` and ``latest.json`` in ``folder``, each replaced whole or not at all, so an
    interrupted run leaves the previous results readable."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "latest.md", "w", encoding="utf-8") as f:
        f.write(text)
    with atomic_write(out / "latest.json", "w", encoding="utf-8") as f:
        f.write(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    return out


def _load():
    """The 1-minute load average, or None where the OS has none."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def worker_flags(settings, args):
    flags = [f"--{k.replace('_', '-')}={settings[k]}" for k in
             ("reps", "min_reps", "rep_s", "warmup_s", "budget_s")]
    return flags + ([f"--threads={args.threads}"] if args.threads else [])


def subprocess_env(args):
    """The environment of the benchmark's subprocesses, and a sentence saying how it differs."""
    env = dict(os.environ)
    paths = [str(ROOT / "src"), str(ROOT)]    # this checkout's chainrule and bench
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [env.get("PYTHONPATH")] if p])
    found = {k: env[k] for k in BLAS_ENV if k in env}
    if args.keep_blas_env:
        note = ("kept " + ", ".join(f"{k}={v}" for k, v in found.items()) if found else
                " and ".join(BLAS_ENV) + " not set")
    elif found:
        for k in found:
            del env[k]
        note = ("unset for the benchmark's subprocesses (they slow NumPy's OpenBLAS): " +
                ", ".join(f"{k}={v}" for k, v in found.items()))
    else:
        note = " and ".join(BLAS_ENV) + " not set"
    if args.threads:
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(args.threads)
        note += f"; threads fixed to {args.threads}"
    return env, note


def run_worker(worker_args, env, timeout_s, case=None, engine=None):
    """Start ``python -m bench._worker ...`` and return the dict it printed."""
    from bench._worker import MARK
    cmd = [sys.executable, "-m", "bench._worker", *worker_args]
    try:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"case": case, "engine": engine, "status": "error",
                "note": f"no result within {timeout_s} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"case": case, "engine": engine, "status": "error",
                "note": f"exit status {proc.returncode}: {tail}"}
    if proc.stderr.strip():
        sys.stderr.write(proc.stderr)
    return json.loads(lines[-1][len(MARK):])


def progress(r):
    if r["status"] == "ok" and "graph_mib" in r:
        return (f"{r['case']:8} {r['engine']:10} {r['graph_mib']:10.1f} MiB held before "
                f"backward ({len(r['graph_samples_mib'])} measurements)")
    if r["status"] == "ok":
        return (f"{r['case']:8} {r['engine']:10} {report.fmt_us(r['median_us']):>10} µs  "
                f"({r['reps']} × {r['inner']} steps, peak RSS {r['peak_rss_mib']:.0f} MiB)")
    return f"{r['case']:8} {r['engine']:10} {r['status']}: {r['note']}"


def timing_text(s):
    return (f"after the gradient check, warm-up of ≥ {s['warmup_s']} s, then up to {s['reps']} "
            f"repetitions (at least {s['min_reps']}, within {s['budget_s']:g} s) of as many steps "
            f"as take ≈ {s['rep_s']} s; median per step; one fresh subprocess per workload × "
            "engine")


def git_describe():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    if not head:
        return None
    return f"git {head}" + (", src/ modified" if dirty else "")


if __name__ == "__main__":
    sys.exit(main())
