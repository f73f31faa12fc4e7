"""One workload on one engine, in its own process: check, then time.  ``python -m bench`` starts
one of these per workload × engine and reads the JSON line it prints last.

    python -m bench._worker W2 torch --reps 7 --rep-s 0.2 --warmup-s 0.3 --budget-s 40
    python -m bench._worker --probe        # versions, BLAS and threads, as JSON

Order: build the program (data, engine import), run it once for the gradients and twice more
to train (the peak RSS is read here, before anything else allocates), compare with NumPy by hand
(a wrong gradient is reported and nothing is timed), warm up, then ``reps`` repetitions of
``inner`` steps each, ``inner`` chosen so one repetition takes about ``rep_s`` seconds.

A graph-memory case (W7-add, W7-tanh, W7-MLP, W7-CNN) is not timed: after the check, one
warm-up and ``reps`` measurements of what the graph holds (``graph_memory``).  ``python -m
bench`` runs its worker with ``MALLOC_MMAP_THRESHOLD_=65536``, so that glibc gives every array
of 64 KiB or more its own mapping and returns it when it is freed: the resident set then
follows what is alive.
"""
import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
import traceback

MARK = "BENCH-RESULT "       # prefixes the JSON line, so that a library's own prints are harmless


def peak_rss_mib():
    """This process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)   # bytes on macOS, KiB


def rss_mib():
    """This process's resident set size now, in MiB; None where there is no /proc/self/statm."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def graph_memory(forward, reps):
    """MiB held between the forward pass and ``backward()``: the resident set just before
    ``backward()`` minus the resident set just before the forward pass (garbage collected),
    the median of ``reps`` measurements after one warm-up.  It counts the forward's output and
    everything the graph keeps alive; ``backward()`` runs after each, and its gradients are
    dropped, so every measurement starts from the same state."""
    held = []
    for _ in range(reps + 1):
        gc.collect()
        before = rss_mib()
        finish = forward()
        after = rss_mib()
        finish()
        del finish
        held.append(after - before)
    return {"graph_mib": statistics.median(held[1:]), "graph_samples_mib": held[1:],
            "malloc_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_")}


def run(case_id, engine, reps=7, rep_s=0.2, warmup_s=0.3, budget_s=40.0, min_reps=3,
        check_only=False):
    """Check, then time ``case_id`` on ``engine``; a dict ready for JSON."""
    from bench import CASES, Skip, build, check_size, verify
    case = CASES[case_id]
    out = {"case": case_id, "engine": engine, "status": "ok", "note": ""}
    try:
        program = build(case, engine, check_size(case))
        if program is None:
            return dict(out, status="n/a", note="no version of this workload")
        out["rss_setup_mib"] = peak_rss_mib()
        t = time.perf_counter()
        got = program.grads()
        out["first_step_us"] = (time.perf_counter() - t) * 1e6
        params = {}
        if case.workload().TRAINS:
            program.step()
            program.step()
            params = program.params()
        out["peak_rss_mib"] = peak_rss_mib()
    except Skip as e:
        return dict(out, status="skipped", note=str(e))
    except RecursionError:
        return dict(out, status="limit", note="RecursionError")
    try:
        out["max_rel_err"] = verify(case, engine, got, params)
    except AssertionError as e:
        return dict(out, status="wrong", note=str(e))
    if case.check_size:
        # checked at another size (W8: float64); the timed program's gradients are compared
        # too, at its own size and the workload's tolerance, and it warms up here
        program = build(case, engine)
        try:
            out["max_rel_err_timed"] = verify(case, engine, program.grads(), None, case.size)
        except AssertionError as e:
            return dict(out, status="wrong", note=str(e))
        t = time.perf_counter()
        program.step()
        out["first_step_us"] = (time.perf_counter() - t) * 1e6
    if check_only:
        return out
    if case.graph_memory:
        if program.forward is None:
            return dict(out, status="n/a", note="no separate forward pass to measure after")
        if rss_mib() is None:
            return dict(out, status="n/a", note="needs /proc/self/statm (Linux)")
        out.update(graph_memory(program.forward, reps))
        return out
    out.update(_time(program.step, out["first_step_us"] / 1e6, reps, rep_s, warmup_s, budget_s,
                     min_reps))
    out["rss_end_mib"] = peak_rss_mib()
    return out


def _time(step, t_first, reps, rep_s, warmup_s, budget_s, min_reps):
    """Warm up, pick the steps per repetition, time ``reps`` repetitions: per-step seconds.

    A first step longer than the whole budget (W4-200k with ``--quick``) is the only sample.
    """
    if t_first >= budget_s:
        return {"median_us": t_first * 1e6, "times_us": [t_first * 1e6], "inner": 1, "reps": 1,
                "warmup_steps": 0, "first_step_only": True}
    warmup_steps, t = 0, time.perf_counter()
    t_step = t_first
    if t_first < budget_s / 4:              # else the check's three steps were the warm-up
        while not warmup_steps or time.perf_counter() - t < warmup_s:
            step()
            warmup_steps += 1
        t_step = (time.perf_counter() - t) / warmup_steps
    inner = max(1, round(rep_s / t_step))
    reps = max(1, min(reps, max(min_reps, int(budget_s / (inner * t_step)))))
    times = []
    for _ in range(reps):
        gc.collect()                        # each repetition starts from the same heap
        t = time.perf_counter()
        for _ in range(inner):
            step()
        times.append((time.perf_counter() - t) / inner)
    us = [s * 1e6 for s in times]
    return {"median_us": statistics.median(us), "times_us": us, "inner": inner, "reps": reps,
            "warmup_steps": warmup_steps}


def probe(engines=("chainrule", "torch")):
    """Versions, machine, BLAS libraries and thread counts, as seen by a benchmark process.

    Imports chainrule, and PyTorch if it is among ``engines``; other versions come from the
    installed packages' metadata.
    """
    from importlib import metadata

    import numpy
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpu": _cpu_name(), "cpu_count": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "memory_gib": _memory_gib(), "versions": {"numpy": numpy.__version__}}
    try:
        import chainrule                    # this checkout's, which may not be installed
        info["versions"]["chainrule"] = chainrule.__version__
        info["chainrule_path"] = os.path.dirname(chainrule.__file__)
    except ImportError:
        pass
    for dist in ("torch", "autograd", "micrograd", "matplotlib"):
        try:
            info["versions"][dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    info["numpy_blas"] = _numpy_blas()
    if "torch" in info["versions"] and "torch" in engines:
        import torch
        config = torch.__config__.show()
        blas = [part.split("=", 1)[1] for part in config.replace(",", "\n").split()
                if part.startswith("BLAS_INFO=")]
        info["torch"] = {"threads": torch.get_num_threads(), "blas": blas[0] if blas else "?"}
    info["threadpools"] = _threadpools()
    return info


def _threadpools():
    """The BLAS/OpenMP libraries loaded, with their kernel and thread count (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return _openblas_by_hand()
    keep = ("internal_api", "version", "architecture", "num_threads", "threading_layer",
            "filepath")
    return [{k: v for k, v in pool.items() if k in keep} for pool in threadpool_info()]


def _openblas_by_hand():
    """Without threadpoolctl: ask the OpenBLAS this process loaded (Linux) for its kernel."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return None
    pools = []
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        pool = {"internal_api": "openblas", "filepath": path}
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                corename = getattr(lib, f"{prefix}_get_corename{suffix}", None)
                threads = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if corename and threads:
                    corename.restype = ctypes.c_char_p
                    pool.update(architecture=corename().decode(), num_threads=threads())
        pools.append(pool)
    return pools or None


def _numpy_blas():
    import numpy
    try:
        config = numpy.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return {"name": blas.get("name"), "version": blas.get("version")}
    except Exception:                       # older NumPy: no dict form
        return None


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib():
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
        return round(kib / 2 ** 20, 1)
    except (OSError, ValueError, IndexError):
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench._worker")
    parser.add_argument("case", nargs="?")
    parser.add_argument("engine", nargs="?")
    parser.add_argument("--probe", action="store_true")
    parser.add_argument("--engines", default="chainrule,torch", help="with --probe")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--min-reps", type=int, default=3)
    parser.add_argument("--rep-s", type=float, default=0.2)
    parser.add_argument("--warmup-s", type=float, default=0.3)
    parser.add_argument("--budget-s", type=float, default=40.0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.probe:
        result = probe(args.engines.split(","))
    else:
        if args.threads and args.engine == "torch":
            import torch
            torch.set_num_threads(args.threads)
        try:
            result = run(args.case, args.engine, args.reps, args.rep_s, args.warmup_s,
                         args.budget_s, args.min_reps)
        except Exception as e:              # reported in the table, not a crash of the suite
            traceback.print_exc()
            result = {"case": args.case, "engine": args.engine, "status": "error",
                      "note": f"{type(e).__name__}: {e}"}
        result["threadpools"] = _threadpools()
    print(MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
