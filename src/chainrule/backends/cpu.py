"""``chainrule.backends.cpu``: the CPU's capability, as torch reports it."""


def get_cpu_capability():
    """"NumPy": chainrule's CPU kernels are NumPy's (torch names a SIMD level such as "AVX2")."""
    return "NumPy"
