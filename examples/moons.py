"""A small network learns the two interleaving half-moons (a non-linear boundary).

    chainrule train moons [--epochs 200] [--plot moons.png]
    python examples/moons.py

The data are synthetic (``chainrule.datasets.make_moons``, no download, no scikit-learn), so
this example needs nothing beyond chainrule.  Target: at least 97% accuracy on a held-out quarter.
"""
import chainrule as torch
from chainrule import nn
from chainrule.datasets import make_moons
from chainrule.utils.data import DataLoader, TensorDataset, random_split
from chainrule.utils.training import Progress, Timer, parse_args, plot_history

TARGET = 0.97


def main(argv=None, prog=None):
    args = parse_args(argv, __doc__, prog, epochs=200, lr=1e-2, batch_size=64)
    torch.manual_seed(args.seed)

    x, y = make_moons(1000, noise=0.15, seed=args.seed)
    train_set, test_set = random_split(TensorDataset(x, y.float()), [0.75, 0.25],
                                       generator=torch.Generator().manual_seed(args.seed))
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))
    x_test, y_test = test_set[:]

    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    if args.compile:         # --compile: record a step once, replay it as NumPy code
        model = torch.compile(model)

    history = {"train loss": [], "test accuracy": []}
    with Timer() as timer:
        for epoch in range(1, args.epochs + 1):
            bar = Progress(loader, desc=f"epoch {epoch:3d}/{args.epochs}", quiet=args.quiet)
            for xb, yb in bar:
                loss = loss_fn(model(xb).squeeze(1), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.update_loss(loss.item())
            with torch.no_grad():
                predicted = (model(x_test).squeeze(1) > 0).float()
            history["train loss"].append(bar.loss)
            history["test accuracy"].append((predicted == y_test).float().mean().item())

    result = {"test accuracy": history["test accuracy"][-1], "cpu seconds": timer.cpu,
              "target": TARGET}
    print(f"test accuracy {result['test accuracy']:.2%} (target ≥ {TARGET:.0%}) "
          f"in {timer.cpu:.2f} s of CPU")
    if args.plot:
        print("curves saved to", plot_history(history, args.plot, "two moons"))
    return result


if __name__ == "__main__":
    main()
