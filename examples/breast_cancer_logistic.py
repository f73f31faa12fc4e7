"""Logistic regression on scikit-learn's breast-cancer data (569 tumours, 30 features).

    chainrule train breast-cancer-logistic [--epochs 30] [--plot bc.png]
    python examples/breast_cancer_logistic.py

One ``nn.Linear(30, 1)`` and ``BCEWithLogitsLoss``: the classic first classifier, written as a
PyTorch user writes it.  Target: at least 95% accuracy on a 25% held-out split.
"""
import chainrule as torch
from chainrule import nn
from chainrule.datasets import load_breast_cancer
from chainrule.utils.data import DataLoader, TensorDataset, random_split
from chainrule.utils.training import Progress, Timer, parse_args, plot_history

TARGET = 0.95


def main(argv=None, prog=None):
    args = parse_args(argv, __doc__, prog, epochs=30, lr=1e-2, batch_size=64)
    torch.manual_seed(args.seed)

    x, y = load_breast_cancer()               # float32 (569, 30), int64 labels 0/1
    train_set, test_set = random_split(TensorDataset(x, y.float()), [0.75, 0.25],
                                       generator=torch.Generator().manual_seed(args.seed))
    # standardise with the training split's statistics only
    x_train, y_train = train_set[:]
    x_test, y_test = test_set[:]
    mean, std = x_train.mean(dim=0), x_train.std(dim=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=torch.Generator().manual_seed(args.seed))

    model = nn.Linear(30, 1)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
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
        print("curves saved to", plot_history(history, args.plot, "breast cancer, logistic"))
    return result


if __name__ == "__main__":
    main()
