"""Reference networks, summary, the course's forward-pass examples, and a 2-2-1 network that learns
XOR."""

import numpy as np
import pytest
from nn_testutils import check_module_grads, t64

import groundup as gu
from groundup import nn


def d64(values):
    return gu.tensor(np.asarray(values, dtype=np.float64))


def _set_linear(layer, W, b):
    layer.weight.data[...] = np.asarray(W, dtype=layer.weight.dtype).reshape(layer.weight.shape)
    layer.bias.data[...] = np.asarray(b, dtype=layer.bias.dtype).reshape(layer.bias.shape)


# --------------------------------------------------------------------------- seed: forward
def test_weighted_sum_neuron(seed_example):
    ex = seed_example("weighted-sum-neuron")
    inp = ex["inputs"]
    neuron = nn.Linear(3, 1).double()
    _set_linear(neuron, inp["w"], inp["b"])
    z = neuron(d64(inp["x"]))
    assert z.item() == pytest.approx(ex["expected"]["z"], abs=ex["tolerance"])


def test_neuron_sigmoid_relu(seed_example):
    ex = seed_example("neuron-sigmoid-relu-q8-7")
    inp = ex["inputs"]
    z = nn.functional.linear(d64(inp["x"]), d64([inp["w"]]),
                             d64([inp["b"]]))
    tol = ex["tolerance"]
    assert z.item() == pytest.approx(ex["expected"]["z"], abs=tol)
    assert nn.Sigmoid()(z).item() == pytest.approx(ex["expected"]["sigmoid"], abs=tol)
    assert nn.ReLU()(z).item() == pytest.approx(ex["expected"]["relu"], abs=tol)


def test_dense_layer_3_to_2(seed_example):
    ex = seed_example("dense-layer-3-to-2")
    layer = nn.Linear(3, 2).double()
    _set_linear(layer, ex["inputs"]["W"], ex["inputs"]["b"])
    z = layer(d64(ex["inputs"]["x"]))
    np.testing.assert_allclose(z.data, ex["expected"]["z"], atol=ex["tolerance"])


def test_forward_3_2_1_relu_sigmoid(seed_example):
    ex = seed_example("forward-3-2-1-relu-sigmoid")
    inp, exp, tol = ex["inputs"], ex["expected"], ex["tolerance"]
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1), nn.Sigmoid()).double()
    _set_linear(net[0], inp["W1"], inp["b1"])
    _set_linear(net[2], inp["W2"], inp["b2"])
    x = d64(inp["x"])
    z1 = net[0](x)
    a1 = net[1](z1)
    z2 = net[2](a1)
    np.testing.assert_allclose(z1.data, exp["z1"], atol=tol)
    np.testing.assert_allclose(a1.data, exp["a1"], atol=tol)
    assert z2.item() == pytest.approx(exp["z2"], abs=tol)
    assert net(x).item() == pytest.approx(exp["y_hat"], abs=tol)


def test_xor_relu_network(seed_example):
    ex = seed_example("xor-relu-network")
    inp, exp, tol = ex["inputs"], ex["expected"], ex["tolerance"]
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1), nn.ReLU()).double()
    _set_linear(net[0], inp["W1"], inp["b1"])
    _set_linear(net[2], inp["w2"], inp["b2"])
    X = gu.tensor(np.array(inp["X"], dtype=np.float64))
    np.testing.assert_allclose(net[1](net[0](X)).data, exp["hidden"], atol=tol)
    np.testing.assert_allclose(net(X).data.ravel(), exp["outputs"], atol=tol)


# --------------------------------------------------------------------------- seed: architecture
@pytest.mark.parametrize("example_id", ["param-count-4-5-4-2", "param-count-5-10-3"])
def test_parameter_counts_via_mlp_and_summary(seed_example, example_id, capsys):
    ex = seed_example(example_id)
    sizes = ex["inputs"]["layer_sizes"]
    model = nn.models.MLP(sizes)
    s = nn.summary(model, (1, sizes[0]))
    printed = capsys.readouterr().out
    linear_rows = [r for r in s.layers if r.type == "Linear"]
    assert [r.params for r in linear_rows] == ex["expected"]["per_layer"]
    assert s.total_params == ex["expected"]["total"] == s.trainable_params
    assert [r.output_shape for r in linear_rows] == [(1, n) for n in sizes[1:]]
    assert f"Total params: {ex['expected']['total']:,}" in printed
    assert "(Linear)" in printed and "(ReLU)" in printed


def test_summary_reports_frozen_params_and_restores_modes():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Dropout(0.5), nn.Linear(3, 2))
    model[0].requires_grad_(False)
    rm = model[1].running_mean.data.copy()
    s = nn.summary(model, (8, 4), print_summary=False)
    assert s.total_params == 15 + 6 + 8 and s.trainable_params == 14
    assert s.non_trainable_params == 15 and s.output_shape == (8, 2)
    assert all(m.training for m in model.modules())
    np.testing.assert_array_equal(model[1].running_mean.data, rm)
    assert "Non-trainable params: 15" in str(s)


def test_mnist_mlp_structure_and_count():
    model = nn.models.MNISTMLP()
    assert sum(p.numel() for p in model.parameters()) == 784 * 256 + 256 + 256 * 128 + 128 + 1290
    out = model(gu.randn(5, 1, 28, 28))
    assert out.shape == (5, 10)
    model.eval()
    x = gu.randn(3, 784)
    np.testing.assert_array_equal(model(x).data, model(x).data)  # eval: dropout off
    torch = pytest.importorskip("torch")
    tm = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                             torch.nn.Dropout(0.2), torch.nn.Linear(256, 128), torch.nn.ReLU(),
                             torch.nn.Dropout(0.2), torch.nn.Linear(128, 10)).eval()
    # weights move to torch by state_dict key (only the "layers." prefix differs)
    sd = {k.replace("layers.", ""): torch.from_numpy(v.data.copy())
          for k, v in model.state_dict().items()}
    tm.load_state_dict({f"{int(k.split('.')[0]) + 1}.{k.split('.')[1]}": v for k, v in sd.items()})
    np.testing.assert_allclose(model(x).data, tm(torch.from_numpy(x.data)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_mlp_options():
    m = nn.models.MLP([3, 8, 8, 2], activation="tanh", dropout=0.1, output_activation="sigmoid")
    assert [type(l).__name__ for l in m] == ["Linear", "Tanh", "Dropout", "Linear", "Tanh",
                                             "Dropout", "Linear", "Sigmoid"]
    m2 = nn.models.MLP([3, 4, 1], activation=nn.LeakyReLU)
    assert isinstance(m2[1], nn.LeakyReLU)
    with pytest.raises(ValueError, match="unknown activation"):
        nn.models.MLP([3, 4, 1], activation="swishy")
    with pytest.raises(TypeError, match="class"):
        nn.models.MLP([3, 4, 1], activation=nn.ReLU())


def test_residual_block_identity_path_and_gradcheck():
    block = nn.models.ResidualBlock(3, hidden=4, activation=None)
    nn.init.zeros_(block.fc2.weight)
    nn.init.zeros_(block.fc2.bias)
    x = gu.randn(2, 3)
    np.testing.assert_allclose(block(x).data, x.data)  # F = 0: the block is the identity
    check_module_grads(nn.models.ResidualBlock(3, hidden=4), t64(np.random.default_rng(0)
                                                                  .standard_normal((2, 3))))


def test_basic_block_shapes_when_conv_exists():
    pytest.importorskip("groundup.nn.layers.conv")
    block = nn.models.BasicBlock(3, 8, stride=2)
    assert block(gu.randn(2, 3, 8, 8)).shape == (2, 8, 4, 4)
    same = nn.models.BasicBlock(4, 4)
    assert len(same.shortcut) == 0 and same(gu.randn(1, 4, 5, 5)).shape == (1, 4, 5, 5)


# --------------------------------------------------------------------------- learning
def test_2_2_1_network_learns_xor():
    X = gu.tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64))
    y = gu.tensor(np.array([[0], [1], [1], [0]], dtype=np.float64))
    # A fixed initialisation: 2-2-1 XOR has local minima (about 3 in 8 random starts end at
    # loss ≈ 0.347 with two points wrong), so the seed is pinned rather than left to chance.
    model = nn.Sequential(nn.Linear(2, 2, generator=gu.Generator(0)), nn.Tanh(),
                          nn.Linear(2, 1, generator=gu.Generator(100))).double()
    loss_fn = nn.BCEWithLogitsLoss()
    first = loss_fn(model(X), y).item()
    for _ in range(2000):  # plain gradient descent, written by hand
        model.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        with gu.no_grad():
            for p in model.parameters():
                p.data -= 1.0 * p.grad.data
    final = loss_fn(model(X), y).item()
    pred = (model(X).data > 0).astype(float)
    np.testing.assert_array_equal(pred, y.data)
    assert final < 0.05 < first


def test_mnist_mlp_training_reduces_loss():
    gu.manual_seed(0)
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((10, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 256)
    x = gu.tensor(centers[labels] + 0.5 * rng.standard_normal((256, 784)).astype(np.float32))
    y = gu.tensor(labels)
    model, loss_fn = nn.models.MNISTMLP(), nn.CrossEntropyLoss()
    losses = []
    for _ in range(30):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        losses.append(loss.item())
        with gu.no_grad():
            for p in model.parameters():
                p.data -= 0.1 * p.grad.data
    model.eval()
    acc = (model(x).data.argmax(1) == labels).mean()
    assert losses[-1] < 0.2 * losses[0] and acc > 0.95
