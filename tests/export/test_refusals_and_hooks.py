"""Never a silently wrong model: faults and custom layers without to_torch() are refused
naming the layer; with the hook (the example PReLU) the export computes what the engine does."""
from pathlib import Path

import numpy as np
import pytest

from nnstudio.engine import Context, Layer, build_network
from nnstudio.engine.custom_layers import load_custom_layers
from nnstudio.engine.user_code import UserCodeError
from nnstudio.export import ExportError, export_pytorch

from .exported import exported_modules, relative_difference

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_a_network_with_an_injected_fault_is_refused_and_nothing_is_written(tmp_path):
    net = build_network("dense:4,batchnorm,relu", 3, "classification", 2)
    net.layers[1].set_fault("missing_1_over_n")
    with pytest.raises(ExportError, match="layer 1 BatchNorm has the fault 'missing_1_over_n'"):
        export_pytorch(net, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    net.layers[1].set_fault(None)
    net.loss.set_fault("wrong_sign")
    with pytest.raises(ExportError, match="the loss has the fault 'wrong_sign'"):
        export_pytorch(net, tmp_path / "out")


def test_a_custom_layer_without_to_torch_is_refused_by_name(tmp_path):
    (swish,) = load_custom_layers(EXAMPLES / "faulty_swish_layer.py")
    assert not hasattr(swish, "to_torch")
    net = build_network([swish()], 3, "classification", 2)
    with pytest.raises(ExportError, match=rf"layer 0 .*\({swish.__name__}, type '{swish.type_name}'\)"
                                          r" is a custom layer without a to_torch\(\)"):
        export_pytorch(net, tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_example_prelu_exports_through_its_hook(torch, tmp_path, dtype):
    load_custom_layers(EXAMPLES / "prelu_layer.py")
    net = build_network("dense:6,prelu,batchnorm,prelu", 4, "classification", 3, seed=2, dtype=dtype)
    rng = np.random.default_rng(0)
    for index in (1, 3):
        net.layers[index].params["alpha"][:] = rng.uniform(0.05, 0.5, 6)
    x = rng.standard_normal((10, 4)).astype(dtype)
    export_pytorch(net, tmp_path)
    assert "nn.PReLU(num_parameters=6)" in (tmp_path / "model.py").read_text()
    with exported_modules(tmp_path) as (model, _):
        with torch.no_grad():
            theirs = model.load()(torch.from_numpy(x)).numpy()
    ours = net.forward(x, Context.inference())
    assert relative_difference(ours, theirs) <= (1e-6 if dtype == np.float32 else 1e-12)


class Scale(Layer):
    """A custom layer whose hook brings its own module class (definitions)."""

    type_name = "test_export_scale"

    def build(self, input_dim, rng, dtype):
        self.input_dim = self.output_dim = input_dim
        self._init_param("s", np.full(input_dim, 1.5, dtype=dtype))
        return input_dim

    def forward(self, x, ctx):
        return x * self.params["s"]

    def backward(self, dout):
        return dout * self.params["s"]

    def to_torch(self):
        return {"module": "Scale()", "state": {"s": self.params["s"]},
                "definitions": "class Scale(nn.Module):\n"
                               "    def __init__(self):\n"
                               f"        super().__init__()\n"
                               f"        self.s = nn.Parameter(torch.ones({self.input_dim}))\n\n"
                               "    def forward(self, x):\n"
                               "        return x * self.s\n",
                "regularized": ("s",)}


def test_a_hook_may_define_its_own_module_and_name_what_is_regularized(torch, tmp_path):
    net = build_network([Scale(), Scale()], 3, "classification", 2, dtype=np.float64)
    net.layers[1].params["s"][:] = [0.5, -2.0, 3.0]
    export_pytorch(net, tmp_path)
    source = (tmp_path / "model.py").read_text()
    assert source.count("class Scale(nn.Module):") == 1  # written once for both layers
    x = np.random.default_rng(0).standard_normal((4, 3))
    with exported_modules(tmp_path) as (model, train):
        with torch.no_grad():
            theirs = model.load()(torch.from_numpy(x)).numpy()
        assert train.REGULARIZED == ["0.s", "1.s", "2.weight"]
    assert relative_difference(net.forward(x, Context.inference()), theirs) <= 1e-12


@pytest.mark.parametrize("answer,message", [
    (42, "must return a dict or TorchModule, got int"),
    ({"state": {}}, "must return a dict with 'module'"),
    ({"module": "nn.ReLU("}, "'module'] is not valid Python"),
    ({"module": "nn.Identity()", "state": {"bad name": np.zeros(2)}}, "is not a torch state_dict name"),
    ({"module": "nn.Identity()", "regularized": ("w",)}, r"regularized names \['w'\] are not in its state"),
])
def test_a_wrong_hook_answer_is_refused_naming_the_layer(tmp_path, answer, message):
    class Wrong(Scale):
        type_name = "test_export_wrong"

        def to_torch(self):
            return answer

    net = build_network([Wrong()], 3, "classification", 2)
    with pytest.raises(ExportError, match=r"layer 0 .*" + message):
        export_pytorch(net, tmp_path)


def test_an_exception_in_a_hook_names_the_users_file_and_line(tmp_path):
    source = tmp_path / "broken_hook.py"
    source.write_text(
        "import numpy as np\nfrom nnstudio.engine import Layer\n\n\n"
        "class Broken(Layer):\n    type_name = 'test_export_broken'\n\n"
        "    def forward(self, x, ctx):\n        return x\n\n"
        "    def backward(self, dout):\n        return dout\n\n"
        "    def to_torch(self):\n        return {'module': 'nn.Identity()'}['state']\n")
    (broken,) = load_custom_layers(source)
    net = build_network([broken()], 3, "classification", 2)
    with pytest.raises(UserCodeError, match=r"broken_hook.py:15: KeyError: 'state' \(in to_torch\(\) of layer 0"):
        export_pytorch(net, tmp_path / "out")
