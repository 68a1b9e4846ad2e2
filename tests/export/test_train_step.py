"""One optimizer step of the exported train.py's loop equals one step of ours: SGD, SGD with
momentum, Nesterov and Adam, with L2 (weight_decay on Linear weights only) and L1 (an
explicit penalty), BatchNorm statistics moving alike."""
import numpy as np
import pytest

from nnstudio.engine import Context
from nnstudio.export import export_pytorch, plan_export, read_safetensors
from nnstudio.training import TrainConfig

from .exported import exported_modules, random_network, relative_difference

CONFIGS = {
    "sgd": dict(optimizer="sgd", momentum=0.0, lr=0.05),
    "sgd-momentum": dict(optimizer="sgd", momentum=0.9, lr=0.05),
    "nesterov": dict(optimizer="sgd", momentum=0.8, nesterov=True, lr=0.05),
    "adam": dict(optimizer="adam", lr=0.01),
}
PENALTIES = {"none": dict(), "l2": dict(l2=0.05), "l1": dict(l1=0.02), "l1+l2": dict(l1=0.01, l2=0.03)}


@pytest.mark.parametrize("penalty", sorted(PENALTIES))
@pytest.mark.parametrize("optimizer", sorted(CONFIGS))
def test_steps_of_train_py_equal_ours(torch, tmp_path, optimizer, penalty):
    seed = sorted(CONFIGS).index(optimizer) * 10 + sorted(PENALTIES).index(penalty)
    task = "regression" if seed % 2 else "classification"
    net, rng = random_network(seed, np.float64, task=task, dropout_p=0.0,
                              stats_choices=("auto", "auto", "running", "batch"))
    config = TrainConfig(**CONFIGS[optimizer], **PENALTIES[penalty], bn_stats="auto")
    export_pytorch(net, tmp_path, train_config=config)
    batches = [rng.standard_normal((12, 5)) for _ in range(3)]
    targets = [rng.integers(0, 3, 12) if task == "classification" else rng.standard_normal((12, 1))
               for _ in batches]

    ours = config.make_optimizer()
    for x, y in zip(batches, targets, strict=True):
        net.compute_gradients(x, y, Context.train(np.random.default_rng(0), config.bn_stats),
                              config.regularization())
        ours.step(net)
    with exported_modules(tmp_path) as (model, train):
        module = model.load()
        theirs = train.make_optimizer(module)
        for x, y in zip(batches, targets, strict=True):
            train.train_step(module, theirs, torch.from_numpy(x), torch.from_numpy(y))
        state = {name: value.numpy() for name, value in module.state_dict().items()}

    for name, value in plan_export(net).state_dict().items():
        if name.endswith("num_batches_tracked"):
            assert int(state[name]) == int(value), name
        else:
            assert relative_difference(value, state[name]) <= 1e-10, name


def test_l2_is_weight_decay_on_linear_weights_only(torch, tmp_path):
    net, _ = random_network(1, np.float64)
    export_pytorch(net, tmp_path, train_config=TrainConfig(optimizer="adam", l2=0.1))
    with exported_modules(tmp_path) as (model, train):
        module = model.load()
        groups = train.make_optimizer(module).param_groups
    names = {id(value): name for name, value in module.named_parameters()}
    decayed = [names[id(p)] for group in groups if group["weight_decay"] == 0.1 for p in group["params"]]
    assert decayed and all(name.endswith(".weight") for name in decayed)
    assert sorted(decayed) == sorted(f"{i}.weight" for i, layer in enumerate(net.layers) if "W" in layer.params)


@pytest.mark.parametrize("optimizer", ["sgd-momentum", "nesterov", "adam"])
def test_train_py_resumes_the_studios_optimizer_state(torch, tmp_path, optimizer):
    net, rng = random_network(7, np.float64, dropout_p=0.0)
    config = TrainConfig(**CONFIGS[optimizer], l2=0.01)
    batches = [rng.standard_normal((12, 5)) for _ in range(5)]
    targets = [rng.integers(0, 3, 12) for _ in batches]
    ours = config.make_optimizer()

    def step(x, y):
        net.compute_gradients(x, y, Context.train(np.random.default_rng(0)), config.regularization())
        ours.step(net)

    for x, y in zip(batches[:3], targets[:3], strict=True):  # the studio trained a while ...
        step(x, y)
    export_pytorch(net, tmp_path, train_config=config, optimizer_state=ours.state_dict())
    for x, y in zip(batches[3:], targets[3:], strict=True):  # ... and goes on
        step(x, y)
    with exported_modules(tmp_path) as (model, train):
        module = model.load()
        theirs = train.make_optimizer(module)
        train.load_optimizer_state(module, theirs, tmp_path / "optimizer.safetensors")
        for x, y in zip(batches[3:], targets[3:], strict=True):
            train.train_step(module, theirs, torch.from_numpy(x), torch.from_numpy(y))
        train.save_optimizer_state(module, theirs, tmp_path / "again.safetensors")
        state = {name: value.numpy() for name, value in module.state_dict().items()}
    for name, value in plan_export(net).state_dict().items():
        if not name.endswith("num_batches_tracked"):
            assert relative_difference(value, state[name]) <= 1e-10, name
    saved = read_safetensors(tmp_path / "again.safetensors")
    assert int(saved["step"]) == (5 if optimizer == "adam" else 0)
    dense = next(i for i, layer in enumerate(net.layers) if "W" in layer.params)
    slot, torch_slot = ("m", "exp_avg") if optimizer == "adam" else ("velocity", "momentum_buffer")
    assert relative_difference(ours.state_dict()[f"{dense}.W/{slot}"].T,
                               saved[f"{dense}.weight/{torch_slot}"]) <= 1e-10
