"""``summary`` explains the primer's LSTM count (one bias per gate vs PyTorch's two)."""

from __future__ import annotations

from groundup import nn


def test_summary_explains_lstm_bias_layouts(seed_example, capsys):
    ex = seed_example("lstm-param-count-q11-8")
    exp = ex["expected"]
    lstm = nn.LSTM(ex["inputs"]["input"], ex["inputs"]["hidden"], batch_first=True)
    result = nn.summary(lstm, (2, 3, ex["inputs"]["input"]))
    printed = capsys.readouterr().out
    assert result.total_params == exp["with_two_biases_per_gate_pytorch_style"]
    (note,) = result.notes
    for key in ("weights", "with_one_bias_per_gate", "with_two_biases_per_gate_pytorch_style"):
        assert f"{exp[key]:,}" in note
    assert note in printed
