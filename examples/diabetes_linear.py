"""Linear regression on scikit-learn's diabetes data (442 patients, 10 features).

    chainrule train diabetes-linear [--epochs 500] [--plot diabetes.png]
    python examples/diabetes_linear.py

``nn.Linear(10, 1)`` trained by gradient descent on the mean squared error, then compared with
the exact least-squares fit (scikit-learn's ``LinearRegression``) on the same split.  Target: a
test R² within 0.01 of scikit-learn's.
"""
import chainrule as torch
from chainrule import nn
from chainrule.datasets import load_diabetes
from chainrule.utils.data import TensorDataset, random_split
from chainrule.utils.training import Progress, Timer, parse_args, plot_history

TOLERANCE = 0.01


def r2_score(y_true, y_pred):
    """1 − (residual sum of squares) / (total sum of squares)."""
    return 1 - ((y_true - y_pred) ** 2).sum().item() / ((y_true - y_true.mean()) ** 2).sum().item()


def main(argv=None, prog=None):
    args = parse_args(argv, __doc__, prog, epochs=500, lr=0.05)
    torch.manual_seed(args.seed)

    x, y = load_diabetes()                    # float32 (442, 10), float32 targets
    train_set, test_set = random_split(TensorDataset(x, y), [0.75, 0.25],
                                       generator=torch.Generator().manual_seed(args.seed))
    x_train, y_train = train_set[:]
    x_test, y_test = test_set[:]
    mean, std = x_train.mean(dim=0), x_train.std(dim=0)
    y_mean, y_std = y_train.mean(), y_train.std()
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    model = nn.Linear(10, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    if args.compile:         # --compile: record a step once, replay it as NumPy code
        model = torch.compile(model)

    def predict(inputs):
        return model(inputs).squeeze(1) * y_std + y_mean

    history = {"train loss": [], "test R²": []}
    with Timer() as timer:
        # full-batch gradient descent: 331 rows fit in one step
        bar = Progress(range(args.epochs), desc="full-batch steps", every=100, quiet=args.quiet)
        for step in bar:
            loss = nn.functional.mse_loss(model(x_train).squeeze(1), (y_train - y_mean) / y_std)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            bar.update_loss(loss.item())
            history["train loss"].append(loss.item())
            with torch.no_grad():
                history["test R²"].append(r2_score(y_test, predict(x_test)))

    result = {"test R2": history["test R²"][-1], "cpu seconds": timer.cpu}
    reference = _least_squares_r2(x_train, y_train, x_test, y_test)
    if reference is not None:
        result["scikit-learn R2"] = reference
        print(f"test R² {result['test R2']:.4f}; scikit-learn's LinearRegression: {reference:.4f} "
              f"(target: within {TOLERANCE}) in {timer.cpu:.2f} s of CPU")
    else:
        print(f"test R² {result['test R2']:.4f} in {timer.cpu:.2f} s of CPU")
    if args.plot:
        print("curves saved to", plot_history(history, args.plot, "diabetes, linear regression"))
    return result


def _least_squares_r2(x_train, y_train, x_test, y_test):
    """scikit-learn's exact fit on the same (standardised) split, for comparison."""
    try:
        from sklearn.linear_model import LinearRegression
    except ImportError:
        return None
    fit = LinearRegression().fit(x_train.numpy(), y_train.numpy())
    return fit.score(x_test.numpy(), y_test.numpy())


if __name__ == "__main__":
    main()
