"""jacfwd against jacrev on a function with 3 inputs and 1,000 outputs.

chainrule's forward mode is derived from its reverse pass (the VJP of the VJP, no forward rules),
so this checks the issue's requirement that jacfwd still costs a few passes, not one per output:
it must be at least 5x faster than jacrev here.  jacrev is itself vectorized (one reverse pass
with a batch of 1,000 cotangents), as torch.func's.  torch.func's times are printed alongside
when torch is installed.

    PYTHONPATH=src python bench/func_jacfwd.py        # exit status 1 below 5x
"""
import os
import sys
import time

import numpy as np

# run as a script, bench/ is first on sys.path and bench/profile.py would shadow the standard
# library's profile module (which torch imports)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(
    os.path.abspath(__file__))]

N_OUT, N_IN, REQUIRED = 1000, 3, 5.0


def best(fn, reps=7):
    fn()                                        # warm up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def problem(m, seed=0):
    """f(x) = tanh(W1 x + b) * exp(sin(W2 x)) + sigmoid(tanh(W1 x + b)), in module ``m``."""
    rng = np.random.default_rng(seed)
    w1, w2, b = (m.tensor(rng.normal(size=s), dtype=m.float64)
                 for s in ((N_OUT, N_IN), (N_OUT, N_IN), (N_OUT,)))

    def f(x):
        h = (w1 @ x + b).tanh()
        return h * (w2 @ x).sin().exp() + h.sigmoid()
    return f, m.tensor(rng.normal(size=N_IN), dtype=m.float64)


def main():
    import chainrule as cr
    from chainrule.func import jacfwd, jacrev
    f, x = problem(cr)
    t_fwd, j_fwd = best(lambda: jacfwd(f)(x))
    t_rev, j_rev = best(lambda: jacrev(f)(x))
    assert np.allclose(j_fwd.numpy(), j_rev.numpy(), rtol=1e-12, atol=1e-12)
    ratio = t_rev / t_fwd
    print(f"f: R^{N_IN} -> R^{N_OUT}, Jacobian {tuple(j_fwd.shape)}, float64")
    print(f"chainrule  jacfwd {t_fwd * 1e3:8.2f} ms   jacrev {t_rev * 1e3:8.2f} ms   "
          f"jacrev/jacfwd = {ratio:.1f}x")
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        tf, tx = problem(torch)
        tt_fwd, tj = best(lambda: torch.func.jacfwd(tf)(tx))
        tt_rev, _ = best(lambda: torch.func.jacrev(tf)(tx))
        assert np.allclose(j_fwd.numpy(), tj.numpy(), rtol=1e-10, atol=1e-12)
        print(f"torch.func jacfwd {tt_fwd * 1e3:8.2f} ms   jacrev {tt_rev * 1e3:8.2f} ms   "
              f"jacrev/jacfwd = {tt_rev / tt_fwd:.1f}x   (same Jacobian)")
    ok = ratio >= REQUIRED
    print(f"{'PASS' if ok else 'FAIL'}: jacfwd is {ratio:.1f}x faster than jacrev "
          f"(required: at least {REQUIRED:.0f}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
