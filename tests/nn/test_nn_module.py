"""Module, Parameter and containers: registration, iteration, modes, dtype, state_dict, repr."""

from collections import OrderedDict

import numpy as np
import pytest

import groundup as gu
from groundup import nn
from groundup.errors import CheckpointError


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.ReLU()])
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 1, bias=False)})
        self.scale = nn.Parameter(gu.ones(1))
        self.register_buffer("steps", gu.zeros(1))
        self.register_buffer("cache", gu.zeros(2), persistent=False)
        self.plain = [nn.Linear(2, 2)]  # a plain list hides its modules (like PyTorch)

    def forward(self, x):
        h = self.fc1(x)
        for b in self.blocks:
            h = b(h)
        return self.heads["a"](h) * self.scale


def test_registration_by_attribute_lists_and_dicts():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias",
                     "heads.a.weight", "heads.a.bias", "heads.b.weight"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in net.named_children()] == ["fc1", "blocks", "heads"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "blocks", "blocks.0", "blocks.1",
                                                   "heads", "heads.a", "heads.b"]
    assert sum(p.numel() for p in net.parameters()) == 1 + 16 + 20 + 10 + 4
    assert all(p.requires_grad for p in net.parameters())
    # registered values are plain attributes too (fast access) and stay in sync
    assert net.fc1 is net._modules["fc1"] and net.scale is net._parameters["scale"]
    new = nn.Linear(3, 4)
    net.fc1 = new
    assert net._modules["fc1"] is new
    assert [n for n, _ in net.named_children()][0] == "fc1"  # replacing keeps the position


def test_state_dict_keys_and_persistence():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "blocks.0.weight",
                        "blocks.0.bias", "heads.a.weight", "heads.a.bias", "heads.b.weight"]
    assert "cache" not in sd
    # values share memory but are detached
    assert np.shares_memory(sd["fc1.weight"].data, net.fc1.weight.data)
    assert not sd["fc1.weight"].requires_grad


def test_state_dict_round_trip_gives_identical_outputs():
    gu.manual_seed(0)
    a, b = Net(), Net()
    x = gu.randn(5, 3)
    assert not np.allclose(a(x).data, b(x).data)
    res = b.load_state_dict({k: v.data.copy() for k, v in a.state_dict().items()})
    assert res.missing_keys == [] and res.unexpected_keys == []
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_mismatch_lists_keys_and_leaves_model_unchanged():
    net = Net()
    before = {k: v.data.copy() for k, v in net.state_dict().items()}
    sd = {k: v.data.copy() + 1 for k, v in net.state_dict().items()}
    del sd["fc1.bias"]
    sd["extra.weight"] = np.zeros(3)
    sd["heads.a.weight"] = np.zeros((3, 3))
    with pytest.raises(CheckpointError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "missing keys: fc1.bias" in msg
    assert "unexpected keys: extra.weight" in msg
    assert "heads.a.weight: checkpoint (3, 3) vs model (2, 4)" in msg
    assert "help:" in msg
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])
    # non-strict: missing/unexpected tolerated and reported, but a wrong shape still refuses
    with pytest.raises(CheckpointError, match="wrong shapes"):
        net.load_state_dict(sd, strict=False)
    sd["heads.a.weight"] = before["heads.a.weight"] + 5
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(net.heads["a"].weight.data, before["heads.a.weight"] + 5)
    np.testing.assert_array_equal(net.fc1.bias.data, before["fc1.bias"])


def test_train_eval_propagate_and_return_self():
    net = Net()
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())


def test_zero_grad_set_to_none_and_zeros():
    net = Net()
    net(gu.randn(2, 3)).sum().backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert np.all(net.fc1.weight.grad.data == 0)
    net.zero_grad()
    assert net.fc1.weight.grad is None


def test_requires_grad_freezes():
    net = Net()
    net.fc1.requires_grad_(False)
    net(gu.randn(2, 3)).sum().backward()
    assert net.fc1.weight.grad is None and net.blocks[0].weight.grad is not None


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Linear", "ReLU", "ModuleList", "Linear", "Linear", "ModuleDict",
                    "Net"]
    net.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert np.all(net.fc1.weight.data == 0)


def test_to_dtype_casts_float_params_and_buffers_only():
    bn = nn.BatchNorm1d(3)
    assert bn.to(gu.float64) is bn
    assert bn.weight.dtype == np.float64 and bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    out = bn(gu.tensor(np.random.default_rng(0).standard_normal((4, 3))))
    assert out.dtype == np.float64
    bn.float()
    assert bn.weight.dtype == np.float32


def test_nested_repr_matches_pytorch_format():
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Sequential(nn.Dropout(0.2)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=5, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.2, inplace=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Parameter(gu.tensor([1.0]))).startswith("Parameter containing:\ntensor(")


def test_sequential_ordereddict_indexing_and_slicing():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Tanh()),
                                       ("out", nn.Linear(3, 1))]))
    assert isinstance(model[1], nn.Tanh) and model.fc is model[0] and model[-1] is model.out
    assert len(model) == 3 and [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    x = gu.randn(4, 2)
    np.testing.assert_allclose(model(x).data, model.out(head(x)).data, rtol=1e-6)
    model.append(nn.Sigmoid())
    assert len(model) == 4 and np.all((model(x).data > 0) & (model(x).data < 1))
    with pytest.raises(IndexError):
        model[7]
    model.extra = nn.Linear(1, 2)  # attribute assignment appends a layer, as in PyTorch
    assert model(x).shape == (4, 2) and list(model._modules)[-1] == "extra"
    del model[0]
    assert len(model) == 4 and model(gu.randn(4, 3)).shape == (4, 2)


def test_modulelist_and_moduledict_operations():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2))
    ml.extend([nn.ReLU()])
    ml.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in ml] == ["Tanh", "Linear", "Linear", "ReLU"]
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias", "2.weight", "2.bias"]
    del ml[0]
    assert isinstance(ml[0], nn.Linear) and len(ml) == 3 and isinstance(ml[-1], nn.ReLU)
    md = nn.ModuleDict({"x": nn.Linear(1, 1)})
    md["y"] = nn.ReLU()
    assert list(md.keys()) == ["x", "y"] and "y" in md
    md.pop("x")
    assert list(md) == ["y"] and len(list(md.parameters())) == 0


def test_shared_parameters_counted_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_forward_hooks_and_removal():
    lin = nn.Linear(2, 3)
    seen = []
    h = lin.register_forward_hook(lambda m, inp, out: seen.append(out.shape))
    pre = lin.register_forward_pre_hook(lambda m, inp: (inp[0] * 0,))
    out = lin(gu.ones(4, 2))
    assert seen == [(4, 3)]
    np.testing.assert_allclose(out.data, np.broadcast_to(lin.bias.data, (4, 3)))
    h.remove()
    pre.remove()
    lin(gu.ones(1, 2))
    assert seen == [(4, 3)]


def test_bad_assignments_and_attribute_errors():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter"):
        lin.weight = gu.ones(2, 2)
    lin.bias = None
    assert lin.bias is None and "bias" in lin._parameters
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lin.nope

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(gu.ones(1))

    with pytest.raises(AttributeError, match="super"):
        Early()


def test_get_submodule_and_parameter():
    net = Net()
    assert net.get_submodule("heads.a") is net.heads["a"]
    assert net.get_parameter("blocks.0.weight") is net.blocks[0].weight
    with pytest.raises(AttributeError):
        net.get_submodule("heads.c")


def test_parameter_is_a_leaf_tensor_requiring_grad():
    p = nn.Parameter(np.arange(3.0))
    assert isinstance(p, gu.Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float64
    q = nn.Parameter(gu.tensor([1.0, 2.0]), requires_grad=False)
    assert not q.requires_grad and q.dtype == np.float32
    (p * 2).sum().backward()
    np.testing.assert_array_equal(p.grad.data, [2, 2, 2])


def test_deepcopy_gives_an_independent_model_with_shared_structure():
    import copy

    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    c = copy.deepcopy(m)
    assert c[0].weight is c._modules["0"]._parameters["weight"]  # attribute and registry agree
    assert c[0].weight is not m[0].weight and isinstance(c[0].weight, nn.Parameter)
    np.testing.assert_array_equal(c[0].weight.data, m[0].weight.data)
    c[1].running_mean.data[...] = 5
    c[0].weight.data[...] = 0
    assert np.all(m[1].running_mean.data == 0) and np.any(m[0].weight.data != 0)
