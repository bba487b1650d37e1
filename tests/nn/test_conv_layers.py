"""Convolution layers (Conv1d, Conv2d, ConvTranspose2d), the course's CNNs (LeNet5, PrimerCNN)
and the course's worked CNN examples (topic ``cnn``) through the public API."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup as gu
from groundup import nn
from groundup.autograd import gradcheck
from groundup.errors import ShapeError
from groundup.nn import functional as F
from groundup.nn.models_cnn import LeNet5, PrimerCNN

RNG = np.random.default_rng(11)


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def module_gradcheck(module, x, seed=0):
    """gradcheck in float64 of Σ R⊙module(x) with respect to x and every parameter."""
    module.double()
    R = gu.tensor(np.random.default_rng(seed).standard_normal(module(x).shape))
    params = tuple(module.parameters())

    def fn(x, *_params):
        return (module(x) * R).sum()

    return gradcheck(fn, (x, *params))


def to_torch(gu_module, torch_module):
    import torch

    torch_module.load_state_dict({k: torch.tensor(np.array(v.data))
                                  for k, v in gu_module.state_dict().items()})
    return torch_module


# ----------------------------------------------------------------------------- layers


def test_conv2d_layer_shapes_params_and_repr():
    conv = nn.Conv2d(1, 32, 3, padding=1)
    assert conv.weight.shape == (32, 1, 3, 3) and conv.bias.shape == (32,)
    assert n_params(conv) == 320
    assert conv(gu.zeros(64, 1, 28, 28)).shape == (64, 32, 28, 28)
    assert n_params(nn.Conv2d(32, 64, 3, padding=1)) == 18_496
    assert repr(conv) == "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    c = nn.Conv2d(4, 8, (3, 5), stride=2, dilation=2, groups=2, bias=False)
    assert c.weight.shape == (8, 2, 3, 5) and c.bias is None
    assert repr(c) == ("Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), dilation=(2, 2), "
                       "groups=2, bias=False)")
    assert repr(nn.Conv2d(2, 2, 3, padding="same")) == \
        "Conv2d(2, 2, kernel_size=(3, 3), stride=(1, 1), padding='same')"
    assert [k for k, _ in conv.named_parameters()] == ["weight", "bias"]


def test_conv_layers_default_init_is_pytorchs():
    # kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in); the bias has the same bound
    conv = nn.Conv2d(16, 32, 3, generator=gu.Generator(0))
    bound = 1 / math.sqrt(16 * 9)
    w = conv.weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert np.abs(conv.bias.data).max() <= bound
    same = nn.Conv2d(16, 32, 3, generator=gu.Generator(0))
    np.testing.assert_array_equal(same.weight.data, w)
    # ConvTranspose2d's fan_in is weight.shape[1]·k² = (out/groups)·k², as in PyTorch
    convt = nn.ConvTranspose2d(64, 8, 4, generator=gu.Generator(1))
    tb = 1 / math.sqrt(8 * 16)
    assert convt.weight.shape == (64, 8, 4, 4)
    assert tb * 0.99 < np.abs(convt.weight.data).max() <= tb
    gu.manual_seed(3)
    a = nn.Conv1d(2, 3, 5).weight.data.copy()
    gu.manual_seed(3)
    np.testing.assert_array_equal(nn.Conv1d(2, 3, 5).weight.data, a)


def test_conv_layers_gradcheck_float64():
    assert module_gradcheck(nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2),
                            gu.tensor(RNG.standard_normal((1, 2, 5, 4)), requires_grad=True))
    assert module_gradcheck(nn.Conv1d(3, 2, 3, padding="same", dilation=2),
                            gu.tensor(RNG.standard_normal((2, 3, 6)), requires_grad=True))
    assert module_gradcheck(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1),
                            gu.tensor(RNG.standard_normal((1, 2, 3, 3)), requires_grad=True))


def test_conv_transpose2d_output_size_argument():
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    x = gu.zeros(1, 4, 7, 7)
    assert up(x).shape == (1, 2, 13, 13)
    assert up(x, output_size=(14, 14)).shape == (1, 2, 14, 14)      # undoes a stride-2 conv
    with pytest.raises(ShapeError, match=r"output_size \(15, 15\) is not reachable"):
        up(x, output_size=(15, 15))


def test_conv_layer_errors_name_layer_shape_and_fix():
    conv = nn.Conv2d(1, 32, 3, padding=1)
    with pytest.raises(ShapeError, match=r"Conv2d\(1→32, kernel 3×3\) got input of shape "
                                         r"\(64, 28, 28\): expected \(N, 1, H, W\) or \(1, H, W\); "
                                         r"help: .*unsqueeze\(1\)"):
        conv(gu.zeros(64, 28, 28))
    with pytest.raises(ShapeError, match=r"channel axis .* has size 28.*permute"):
        nn.Conv2d(3, 8, 3)(gu.zeros(2, 28, 28, 3))
    with pytest.raises(ShapeError, match=r"Conv2d\(1→2, kernel 5×5\): conv2d: input of spatial "
                                         r"size \(3, 3\)"):
        nn.Conv2d(1, 2, 5)(gu.zeros(1, 1, 3, 3))
    with pytest.raises(ShapeError, match=r"Conv1d\(2→4, kernel 3\) got input of shape"):
        nn.Conv1d(2, 4, 3)(gu.zeros(1, 3, 10))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 6, 3, padding_mode="reflect")


def test_conv2d_module_to_float64_and_state_dict_roundtrip():
    a, b = nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 3)
    b.load_state_dict(a.state_dict())
    x = gu.tensor(RNG.standard_normal((2, 3, 6, 6)).astype(np.float32))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    a.double()
    assert a(x.double()).dtype == np.float64


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's own note
@pytest.mark.parametrize("kwargs", [
    dict(in_channels=3, out_channels=8, kernel_size=3, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(2, 3), stride=(2, 1), padding=(1, 0),
         dilation=(1, 2), groups=2),
    dict(in_channels=3, out_channels=4, kernel_size=4, padding="same", bias=False),
])
def test_conv2d_layer_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    mine = nn.Conv2d(**kwargs)
    theirs = to_torch(mine, torch.nn.Conv2d(**kwargs))
    x = RNG.standard_normal((2, kwargs["in_channels"], 9, 8)).astype(np.float32)
    xt, xr = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = mine(xt), theirs(xr)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = RNG.standard_normal(out.shape).astype(np.float32)
    out.backward(gu.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mine.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-4)


def test_conv1d_and_conv_transpose2d_layers_match_torch():
    torch = pytest.importorskip("torch")
    for mine, theirs, shape in [
        (nn.Conv1d(3, 4, 5, stride=2, padding=2), torch.nn.Conv1d(3, 4, 5, stride=2, padding=2),
         (2, 3, 20)),
        (nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
         torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), (2, 4, 5, 6)),
    ]:
        mine.double()
        to_torch(mine, theirs.double())
        x = RNG.standard_normal(shape)
        xt, xr = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = mine(xt), theirs(xr)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mine.weight.grad.data, theirs.weight.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mine.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-10)


def test_functional_names_reexported():
    from groundup.ops import conv as ops_conv
    from groundup.ops import pooling as ops_pool

    for name in ("conv1d", "conv2d", "conv_transpose2d"):
        assert getattr(F, name) is getattr(ops_conv, name)
    for name in ("max_pool1d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"):
        assert getattr(F, name) is getattr(ops_pool, name)
    x = gu.tensor(RNG.standard_normal((1, 2, 6, 6)))
    assert F.max_pool2d(x, 2).shape == (1, 2, 3, 3)
    assert F.adaptive_avg_pool2d(x, 1).shape == (1, 2, 1, 1)


# ----------------------------------------------------------------------------- models


def test_primer_cnn_shapes_and_parameter_counts():
    model = PrimerCNN()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [n_params(c) for c in convs] == [320, 18_496]
    assert n_params(model) == 320 + 18_496 + (3136 * 128 + 128) + (128 * 10 + 10) == 421_642
    assert model(gu.zeros(5, 1, 28, 28)).shape == (5, 10)
    rgb = PrimerCNN(in_channels=3, image_size=32)
    assert n_params([m for m in rgb.modules() if isinstance(m, nn.Conv2d)][0]) == 896
    assert rgb(gu.zeros(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ShapeError, match=r"PrimerCNN got input of shape \(5, 28, 28\).*"
                                         r"unsqueeze\(1\)"):
        model(gu.zeros(5, 28, 28))


def test_lenet5_shapes_and_parameter_count():
    model = LeNet5()
    assert n_params(model) == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706
    feats = model.features(gu.zeros(3, 1, 28, 28))
    assert feats.shape == (3, 16, 5, 5)
    assert model(gu.zeros(3, 1, 28, 28)).shape == (3, 10)
    relu = LeNet5(activation="relu", pool="max")
    assert isinstance(relu.features[1], nn.ReLU) and isinstance(relu.features[2], nn.MaxPool2d)


def test_primer_cnn_matches_torch_forward_and_backward():
    torch = pytest.importorskip("torch")
    model = PrimerCNN()
    tm = torch.nn.Module()
    tm.features = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
    tm.classifier = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    to_torch(model, tm)
    x = RNG.random((4, 1, 28, 28)).astype(np.float32)
    out = model(gu.tensor(x))
    ref = tm.classifier(tm.features(torch.tensor(x)))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-4, atol=1e-5)
    out.sum().backward()
    ref.sum().backward()
    named = dict(tm.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, named[name].grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)


def test_primer_cnn_learns_left_versus_right():
    # two classes: the bright half of the image is the left or the right one
    gu.manual_seed(0)
    model = PrimerCNN(image_size=8, num_classes=2)
    y = np.arange(16) % 2
    x = RNG.random((16, 1, 8, 8)) * 0.2
    x[y == 0, :, :, :4] += 1.0
    x[y == 1, :, :, 4:] += 1.0
    x = gu.tensor(x.astype(np.float32))
    losses = []
    for _ in range(15):
        model.zero_grad()
        loss = F.cross_entropy(model(x), gu.tensor(y))
        loss.backward()
        losses.append(loss.item())
        with gu.no_grad():
            for p in model.parameters():
                p.data -= 0.1 * p.grad.data
    assert losses[-1] < 0.1 < 0.6 < losses[0]
    assert (model(x).data.argmax(axis=1) == y).all()


# ----------------------------------------------------------------------------- course examples


def test_seed_conv_output_size_formula(seed_example):
    ex = seed_example("conv-output-size-formula")
    sides = []
    for case in ex["inputs"]["cases"]:
        n, k = case["n"], case["k"]
        conv = nn.Conv2d(1, 1, k, stride=case.get("s", 1), padding=case.get("p", 0))
        sides.append(conv(gu.zeros(1, 1, n, n)).shape[-1])
    assert sides == ex["expected"]["sides"]


def test_seed_conv_valid_cross_correlation(seed_example):
    ex = seed_example("conv2d-valid-q10-7")
    image = gu.tensor(np.array(ex["inputs"]["input"], dtype=np.float64)[None, None])
    kernel = gu.tensor(np.array(ex["inputs"]["kernel"], dtype=np.float64)[None, None])
    out = F.conv2d(image, kernel)[0, 0]
    np.testing.assert_allclose(out.data, ex["expected"]["output"], atol=ex["tolerance"])


def test_seed_conv_output_shape_q10_4(seed_example):
    ex = seed_example("conv-output-shape-q10-4")
    H, W, Cin = ex["inputs"]["input"]
    layer = ex["inputs"]["layers"][0]
    conv = nn.Conv2d(Cin, layer["filters"], layer["k"], stride=layer["s"], padding=layer["p"])
    _, c, h, w = conv(gu.zeros(1, Cin, H, W)).shape
    assert [[h, w, c]] == ex["expected"]["shapes"]
    assert [n_params(conv)] == ex["expected"]["params"]
    assert n_params(conv) == ex["expected"]["total_params"]


def test_seed_conv_filter_params_q10_5(seed_example):
    ex = seed_example("conv-filter-params-q10-5")
    one_filter = nn.Conv2d(ex["inputs"]["in_channels"], 1, ex["inputs"]["k"])
    assert one_filter.weight.numel() == ex["expected"]["weights"]
    assert n_params(one_filter) == ex["expected"]["params_with_bias"]


def test_seed_cnn_shapes_and_params_q10_8(seed_example):
    ex = seed_example("cnn-shapes-params-q10-8")
    H, W, C = ex["inputs"]["input"]
    layers = []
    for spec in ex["inputs"]["layers"]:
        if spec["type"] == "conv":
            layers.append(nn.Conv2d(C, spec["filters"], spec["k"], stride=spec["s"],
                                    padding=spec["p"]))
            C = spec["filters"]
        else:
            layers.append(nn.MaxPool2d(spec["k"]))
    x = gu.zeros(1, ex["inputs"]["input"][2], H, W)
    shapes, params = [], []
    for layer in layers:
        x = layer(x)
        shapes.append([x.shape[2], x.shape[3], x.shape[1]])       # the course writes H×W×C
        params.append(n_params(layer))
    assert shapes == ex["expected"]["shapes"]
    assert params == ex["expected"]["params"]
    assert n_params(nn.Sequential(*layers)) == ex["expected"]["total_params"]


def test_seed_conv_vs_fc_q10_1(seed_example):
    ex = seed_example("conv-vs-fc-q10-1")
    i = ex["inputs"]
    conv = nn.Conv2d(i["channels"], i["filters"], i["f"])
    fc = nn.Linear(i["H"] * i["W"] * i["channels"], i["filters"])       # 9.6 M weights: fine
    assert n_params(conv) == ex["expected"]["conv_params"]
    assert n_params(fc) == ex["expected"]["fc_params"]
    assert n_params(fc) / n_params(conv) == pytest.approx(ex["expected"]["ratio"],
                                                          abs=ex["tolerance"])


def test_seed_conv_vs_fc_parameter_savings(seed_example):
    ex = seed_example("conv-vs-fc-parameter-savings")
    i, e = ex["inputs"], ex["expected"]
    side, k = i["image_side"], i["kernel"]
    conv = nn.Conv2d(1, 1, k)
    assert conv.weight.numel() == e["conv_weights"]
    assert n_params(conv) == e["conv_params_with_bias"]
    out_side = conv(gu.zeros(1, 1, side, side)).shape[-1]
    assert out_side == e["feature_map_side"]
    features = side * side * i["channels"]
    assert features == e["input_features_rgb"]
    # The dense layers here would hold 150 M and 2.5 G float32 weights (0.6 GB and 10 GB), so
    # their counts come from Linear's own formula, in·out (+ out), checked on a small Linear.
    small = nn.Linear(7, 5)
    assert small.weight.numel() == 7 * 5 and n_params(small) == 7 * 5 + 5
    assert features * i["hidden"] == e["fc_to_hidden_weights"]
    assert features * i["hidden"] + i["hidden"] == e["fc_to_hidden_params_with_bias"]
    assert (side * side) * (out_side * out_side) == e["fc_equivalent_params"]
