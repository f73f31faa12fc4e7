"""Small helpers the training examples share: a progress display and a loss/metric plot.

They are deliberately thin: the training loops themselves stay in the examples, written out as
a PyTorch user would write them.
"""
import argparse
import sys
import time


class Progress:
    """Iterate over ``iterable`` showing a progress bar with the running loss.

    Uses tqdm when it is installed and the output is a terminal; otherwise prints one plain line
    per ``every`` steps (and at the end), which reads well in logs and CI.

    >>> bar = Progress(range(3), desc="epoch 1", stream=sys.stdout, every=10)
    >>> for step in bar:
    ...     bar.update_loss(0.5)
    epoch 1: 3/3 loss 0.5000
    """

    def __init__(self, iterable, desc="", total=None, stream=None, every=None, quiet=False):
        self.iterable = iterable
        self.quiet = quiet
        self.desc = desc
        self.total = total if total is not None else _len(iterable)
        self.stream = stream or sys.stderr
        self.every = every
        self.loss_sum = 0.0
        self.count = 0
        self._bar = None
        if every is None and not quiet and _is_terminal(self.stream):
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(total=self.total, desc=desc, file=self.stream, leave=True,
                                 dynamic_ncols=True)

    @property
    def loss(self):
        """The mean of the losses reported so far in this pass."""
        return self.loss_sum / self.count if self.count else float("nan")

    def update_loss(self, value):
        self.loss_sum += float(value)
        self.count += 1
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{self.loss:.4f}", refresh=False)

    def __iter__(self):
        n = 0
        for item in self.iterable:
            yield item
            n += 1
            if self._bar is not None:
                self._bar.update(1)
            elif self.every and n % self.every == 0 and n != self.total:
                self._line(n)
        if self._bar is not None:
            self._bar.close()
        else:
            self._line(n)

    def _line(self, n):
        if self.quiet:
            return
        total = f"/{self.total}" if self.total is not None else ""
        print(f"{self.desc}: {n}{total} loss {self.loss:.4f}", file=self.stream, flush=True)


def _len(iterable):
    try:
        return len(iterable)
    except TypeError:
        return None


def _is_terminal(stream):
    return hasattr(stream, "isatty") and stream.isatty()


def plot_history(history, path, title=""):
    """Save the curves in ``history`` (``{"train loss": [...], "test accuracy": [...]}``, one
    value per epoch) as a PNG: losses on the left axis, other metrics on a panel beside them.
    Needs matplotlib (``pip install "chainrule[train]"``)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('plotting needs matplotlib: pip install "chainrule[train]"') from None
    losses = {k: v for k, v in history.items() if "loss" in k}
    metrics = {k: v for k, v in history.items() if "loss" not in k}
    panels = [p for p in (losses, metrics) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for name, values in panel.items():
            ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def parse_args(argv, doc, **defaults):
    """The options every training example takes; ``defaults`` gives its own epochs, lr, ...

    ``--epochs``, ``--lr``, ``--batch-size``, ``--seed``, ``--plot FILE`` (a PNG of the curves)
    and ``--quiet`` (no per-epoch lines: what the tests use).
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=defaults.get("epochs", 10))
    parser.add_argument("--lr", type=float, default=defaults.get("lr", 1e-3))
    parser.add_argument("--batch-size", type=int, default=defaults.get("batch_size", 32))
    parser.add_argument("--seed", type=int, default=defaults.get("seed", 0))
    parser.add_argument("--plot", metavar="FILE", help="save the loss/metric curves as a PNG "
                        "(needs matplotlib: pip install \"chainrule[train]\")")
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    return parser.parse_args(argv)


class Timer:
    """CPU and wall time of a block: ``with Timer() as t: ...; t.cpu, t.wall`` (seconds)."""

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
