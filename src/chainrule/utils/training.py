"""Small helpers the training examples share: a progress display and a loss/metric plot.

They are deliberately thin: the training loops themselves stay in the examples, written out as
a PyTorch user would write them.
"""
import argparse
import os
import sys
import time

from .._files import atomic_write, check_writable_folder


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
    try:
        with atomic_write(path, "wb") as f:       # a failed save leaves no half-written file
            fig.savefig(f, format=_plot_format(path), dpi=110)
    finally:
        plt.close(fig)
    return path


class ArgumentParser(argparse.ArgumentParser):
    """argparse with each usage error on one line (problem, then the fix), exit status 2."""

    def error(self, message):
        """argparse's own messages name the problem; the fix is in the help."""
        self.fail(f"{message} (see {self.prog} --help)")

    def fail(self, message):
        """One line, ``prog: message``, on stderr; exit status 2 (a usage error)."""
        self.exit(2, f"{self.prog}: {message}\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 1e-3, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _seed(text):
    try:
        return int(text)        # any int, negative too: manual_seed takes it modulo 2**64
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def parse_args(argv, doc, prog=None, **defaults):
    """The options every training example takes; ``defaults`` gives its own epochs, lr, ...

    ``--epochs``, ``--lr``, ``--batch-size``, ``--seed``, ``--plot FILE`` (a PNG of the curves),
    ``--quiet`` (only the result: what the tests use) and ``--compile`` (``chainrule.compile``
    the model).  ``prog`` names the command in usage
    and errors (``chainrule train moons``).  Every bad value, and a ``--plot`` that could not be
    saved (no matplotlib, a folder that can't be written), is refused here, before training.
    """
    parser = ArgumentParser(prog=prog, description=doc.split("\n\n")[0],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=_positive_int, default=defaults.get("epochs", 10),
                        help="passes over the training data (default: %(default)s)")
    parser.add_argument("--lr", type=_learning_rate, default=defaults.get("lr", 1e-3),
                        help="learning rate (default: %(default)s)")
    parser.add_argument("--batch-size", type=_positive_int,
                        default=defaults.get("batch_size", 32),
                        help="examples per step (default: %(default)s)")
    parser.add_argument("--seed", type=_seed, default=defaults.get("seed", 0),
                        help="seeds the data split, the shuffling and the initial weights "
                        "(default: %(default)s)")
    parser.add_argument("--plot", metavar="FILE", help="save the loss/metric curves as a PNG "
                        "(needs matplotlib: pip install \"chainrule[train]\")")
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    parser.add_argument("--compile", action="store_true", help="run the model through "
                        "chainrule.compile (as torch.compile): the same numbers, faster steps")
    args = parser.parse_args(argv)
    if args.plot is not None:
        problem = _plot_problem(args.plot)
        if problem:
            parser.fail(problem)
    return args


def _plot_problem(path):
    """Why the curves could not be saved at ``path`` (None if they can), found before training."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        return ('--plot needs matplotlib, which is not installed: pip install "chainrule[train]",'
                " or leave out --plot")
    if os.path.isdir(path):
        return (f"--plot {path!r} is a folder: give a file name, e.g. "
                f"--plot {os.path.join(path, 'curves.png')}")
    fmt = _plot_format(path)
    formats = FigureCanvasBase.get_supported_filetypes()
    if fmt not in formats:
        return (f"--plot {path!r}: can't save a .{fmt} file; end the name with one of "
                f"{', '.join('.' + f for f in sorted(formats))} (e.g. curves.png)")
    try:
        check_writable_folder(os.path.dirname(os.path.abspath(path)), "the plot")
    except OSError as e:
        return f"--plot {path!r}: {e.strerror}; give a path in a folder you can write to"
    return None


def _plot_format(path):
    return os.path.splitext(os.fspath(path))[1][1:].lower() or "png"


class Timer:
    """CPU and wall time of a block: ``with Timer() as t: ...; t.cpu, t.wall`` (seconds)."""

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
