"""The text of the exported ``train.py``: a minimal PyTorch loop with the project's settings."""
from __future__ import annotations

import textwrap
from typing import Any

from ..training.config import TrainConfig
from .literals import assignment, one_line
from .plan import ExportPlan

DATA_FILE = "data.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"

LOOP = '''


def make_optimizer(network: nn.Module) -> torch.optim.Optimizer:
    """The studio's optimizer; L2 is weight_decay on the REGULARIZED tensors only (the
    studio never decays biases or BatchNorm parameters)."""
    named = dict(network.named_parameters())
    decayed = [named[name] for name in REGULARIZED]
    others = [value for name, value in named.items() if name not in REGULARIZED]
    groups = [group for group in ({"params": decayed, "weight_decay": L2},
                                  {"params": others, "weight_decay": 0.0}) if group["params"]]
    return OPTIMIZER(groups)


def load_optimizer_state(network: nn.Module, optimizer: torch.optim.Optimizer, path) -> None:
    """Resume the momentum buffers or Adam moments and step count saved at ``path``."""
    arrays = model.read_weights(path)
    step = torch.tensor(float(arrays.pop("step")))
    named = dict(network.named_parameters())
    for key, value in arrays.items():
        name, slot = key.rsplit("/", 1)
        state = optimizer.state[named[name]]
        state[slot] = value.to(named[name].dtype).clone()
        if slot.startswith("exp_avg"):
            state["step"] = step.clone()


def save_optimizer_state(network: nn.Module, optimizer: torch.optim.Optimizer, path) -> None:
    """The optimizer's buffers as .safetensors, in the layout load_optimizer_state reads."""
    names = {id(value): name for name, value in network.named_parameters()}
    arrays, step = {}, 0
    for value, state in optimizer.state.items():
        for slot, tensor in state.items():
            if slot == "step":
                step = int(tensor)
            else:
                arrays[f"{names[id(value)]}/{slot}"] = tensor
    arrays["step"] = torch.tensor(step, dtype=torch.int64)
    model.write_weights(path, arrays)


def l1_penalty(network: nn.Module) -> torch.Tensor:
    """L1 * sum(|W|) over the REGULARIZED tensors: an explicit term of the objective, as in
    NN Studio (torch's optimizers have no L1 setting)."""
    named = dict(network.named_parameters())
    return L1 * sum(named[name].abs().sum() for name in REGULARIZED)


def train_step(network: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
               y: torch.Tensor) -> float:
    """One optimizer step on the batch (x, y), as NN Studio takes it; returns the data loss."""
    network.train()
    optimizer.zero_grad()
    loss = LOSS(network(x), y)
    objective = loss + l1_penalty(network) if L1 and REGULARIZED else loss
    objective.backward()
    optimizer.step()
    return loss.item()


def batches(n: int, generator: torch.Generator) -> list:
    """Row indices of an epoch's batches, shuffled; a trailing batch of one row joins the
    batch before it (BatchNorm cannot take the statistics of a single row)."""
    order = torch.randperm(n, generator=generator)
    bounds = [[start, min(start + BATCH_SIZE, n)] for start in range(0, n, BATCH_SIZE)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2][1] = n
        bounds.pop()
    return [order[start:stop] for start, stop in bounds]


def evaluate(network: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple:
    """(data loss, accuracy or R²) in eval() mode."""
    network.eval()
    with torch.no_grad():
        out = network(x)
        loss = float(LOSS(out, y))
        if CLASSIFICATION:
            return loss, float((out.argmax(dim=1) == y).double().mean())
        residual = float(((out - y) ** 2).sum())
        total = float(((y - y.mean(dim=0)) ** 2).sum())
        return loss, (1.0 - residual / total) if total > 0 else 0.0


def exported_split(split: str) -> tuple:
    """(x, y) of a split the studio trained with (already preprocessed), if exported."""
    path = HERE / DATA_FILE
    if not path.is_file():
        return None
    arrays = model.read_weights(path)
    if f"x_{split}" not in arrays or len(arrays[f"x_{split}"]) == 0:
        return None
    y = arrays[f"y_{split}"]
    return arrays[f"x_{split}"].to(model.DTYPE), y if CLASSIFICATION else y.to(model.DTYPE)


def table_rows(path: str) -> tuple:
    """(x, y) of a CSV's rows through model.preprocess; rows without a target are skipped."""
    frame = model.read_csv(path)
    frame = frame[~frame[model.TARGET].map(model.is_missing)].reset_index(drop=True)
    return model.preprocess(frame), model.encode_target(frame)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--csv", help="train on the rows of this table instead of the "
                        "exported training split")
    parser.add_argument("--weights", default=str(HERE / model.WEIGHTS_FILE),
                        help="the weights to start from")
    parser.add_argument("--optimizer-state", help="momentum or Adam state to resume (default: "
                        f"{OPTIMIZER_FILE}, when starting from the exported weights)")
    parser.add_argument("--out", default=str(HERE / "weights-continued.safetensors"),
                        help="where to save the weights (and the optimizer state beside them)")
    args = parser.parse_args(argv)
    resume = args.optimizer_state
    if resume is None and Path(args.weights) == HERE / model.WEIGHTS_FILE:
        resume = HERE / OPTIMIZER_FILE if (HERE / OPTIMIZER_FILE).is_file() else None
    torch.manual_seed(SEED)  # dropout masks
    generator = torch.Generator().manual_seed(SEED)  # the order of the rows
    train = table_rows(args.csv) if args.csv else exported_split("train")
    if train is None:
        parser.error(f"no exported data ({DATA_FILE}): give the rows with --csv FILE")
    validation = None if args.csv else exported_split("val")
    network = model.load(args.weights)
    optimizer = make_optimizer(network)
    if resume is not None:
        load_optimizer_state(network, optimizer, resume)
    x, y = train
    metric = "accuracy" if CLASSIFICATION else "R2"
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for rows in batches(len(x), generator):
            total += train_step(network, optimizer, x[rows], y[rows]) * len(rows)
        line = f"epoch {epoch}: train loss {total / len(x):.4f}"
        if validation is not None:
            loss, score = evaluate(network, *validation)
            line += f", val loss {loss:.4f}, val {metric} {score:.4f}"
        print(line, flush=True)
    model.write_weights(args.out, network.state_dict())
    state_file = Path(args.out).with_suffix(".optimizer.safetensors")
    save_optimizer_state(network, optimizer, state_file)
    print(f"saved {args.out} (optimizer state: {state_file.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
'''


def train_source(plan: ExportPlan, config: TrainConfig, about: str) -> str:
    """The whole of ``train.py`` for ``plan`` trained with ``config``."""
    optimizer: dict[str, Any] = config.make_optimizer().config()
    if config.optimizer == "sgd":
        constructor = (f"functools.partial(torch.optim.SGD, lr={optimizer['lr']!r}, "
                       f"momentum={optimizer['momentum']!r}, nesterov={optimizer['nesterov']!r})")
        described = (f"SGD, lr {optimizer['lr']!r}, momentum {optimizer['momentum']!r}"
                     + (", Nesterov" if optimizer["nesterov"] else ""))
    else:
        constructor = (f"functools.partial(torch.optim.Adam, lr={optimizer['lr']!r}, "
                       f"betas=({optimizer['beta1']!r}, {optimizer['beta2']!r}), "
                       f"eps={optimizer['eps']!r})")
        described = (f"Adam, lr {optimizer['lr']!r}, betas ({optimizer['beta1']!r}, "
                     f"{optimizer['beta2']!r}), eps {optimizer['eps']!r}")
    lines = [
        '"""Continue training the exported network in PyTorch, with its NN Studio settings.',
        "",
        f"{one_line(about)}",
        "",
        f"    python train.py                     # {config.epochs or 1} epochs, the exported split",
        "    python train.py --epochs 50 --out more.safetensors",
        "    python train.py --csv rows.csv      # a table's rows, through model.preprocess",
        "",
        *textwrap.wrap(
            f"Settings of the project: {described}; batch size {config.batch_size}; L2 "
            f"{config.l2!r} as weight_decay and L1 {config.l1!r} as a penalty, both on Linear "
            f"weights only (never biases or BatchNorm); seed {config.seed} for the row order "
            "and dropout masks. It starts from the exported weights and BatchNorm statistics, "
            "and from the optimizer's state (momentum buffers, Adam moments and step) in "
            f"{OPTIMIZER_FILE} when the studio had one.", 88),
        '"""',
        "import argparse",
        "import functools",
        "from pathlib import Path",
        "",
        "import torch",
        "from torch import nn",
        "",
        "import model  # model.py, beside this file",
        "",
        "HERE = Path(__file__).resolve().parent",
        assignment("SEED", config.seed),
        assignment("EPOCHS", config.epochs or 1),
        assignment("BATCH_SIZE", config.batch_size),
        f"#: {described}",
        f"OPTIMIZER = {constructor}",
        "#: NN Studio's L2 penalty (l2/2)·sum(W²) has the gradient l2·W: torch's weight_decay",
        assignment("L2", config.l2),
        "#: NN Studio's L1 penalty l1·sum(|W|), added to the loss",
        assignment("L1", config.l1),
        "#: the tensors L1 and L2 apply to: the weights of Linear layers (and what custom",
        "#: layers' to_torch() named), as NN Studio regularizes them",
        assignment("REGULARIZED", plan.regularized_names()),
        f"LOSS = {plan.loss}",
        assignment("CLASSIFICATION", plan.loss_type != "mse"),
        f"DATA_FILE = {DATA_FILE!r}",
        f"OPTIMIZER_FILE = {OPTIMIZER_FILE!r}",
    ]
    return "\n".join(lines) + LOOP
