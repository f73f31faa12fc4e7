"""A two-layer network on scikit-learn's handwritten digits (1,797 8×8 images, 10 classes).

    chainrule train digits-mlp [--epochs 30] [--plot digits-mlp.png]
    python examples/digits_mlp.py

Written exactly as the PyTorch script would be: swap ``chainrule`` for ``torch`` and it runs
there too.  Target: at least 97% accuracy on a 25% held-out split.
"""
import chainrule as torch
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.datasets import load_digits
from chainrule.utils.data import DataLoader, TensorDataset, random_split
from chainrule.utils.training import Progress, Timer, parse_args, plot_history

TARGET = 0.97


def accuracy(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += len(y)
    model.train()
    return correct / total


def main(argv=None, prog=None):
    args = parse_args(argv, __doc__, prog, epochs=30, lr=1e-3, batch_size=32)
    torch.manual_seed(args.seed)

    x, y = load_digits()                      # float32 (1797, 64) in 0..16, int64 labels
    data = TensorDataset(x / 16.0, y)
    train_set, test_set = random_split(data, [0.75, 0.25],
                                       generator=torch.Generator().manual_seed(args.seed))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(args.seed))
    test_loader = DataLoader(test_set, batch_size=512)

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    if args.compile:         # --compile: record a step once, replay it as NumPy code
        model = torch.compile(model)
    if not args.quiet:
        print(model)

    history = {"train loss": [], "test accuracy": []}
    with Timer() as timer:
        for epoch in range(1, args.epochs + 1):
            bar = Progress(train_loader, desc=f"epoch {epoch:2d}/{args.epochs}", quiet=args.quiet)
            for xb, yb in bar:
                loss = F.cross_entropy(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.update_loss(loss.item())
            history["train loss"].append(bar.loss)
            history["test accuracy"].append(accuracy(model, test_loader))

    result = {"test accuracy": history["test accuracy"][-1], "cpu seconds": timer.cpu,
              "target": TARGET}
    print(f"test accuracy {result['test accuracy']:.2%} (target ≥ {TARGET:.0%}) "
          f"in {timer.cpu:.2f} s of CPU")
    if args.plot:
        print("curves saved to", plot_history(history, args.plot, "digits MLP"))
    return result


if __name__ == "__main__":
    main()
