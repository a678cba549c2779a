"""Our `LSTMLayer(LSTMCell)` (lesson 12a) against PyTorch's `nn.LSTM`, side by side, forward and backward on the CPU.

Candidates, each one forward pass of a `(bs, seq_len, n)` batch from a zero state and one backward pass of the
outputs' sum, the same weights in all (the outputs are checked equal before timing):

* `nn.LSTM` -- PyTorch's one-layer LSTM (one compiled kernel for the whole sequence): the base, and its A/A row (the
  base again under a second name: the noise floor);
* `LSTMLayer(LSTMCell)` -- the lesson's layer: a Python loop over the time steps, two `nn.Linear` per step;
* `torch.jit.script` layer -- the 2019 course's TorchScript version of the same loop (annotated copies of the cell and
  layer, scripted), where `torch.jit.script` still works.

A second table times the dropout masks of the lesson on the AWD-LSTM's largest mask (the `weight_hh` of a 1,150-unit
layer): the 2019 `bernoulli_(1-p)` against the lesson's comparison of uniform draws with `p`.

Process CPU time, one torch thread, interleaved repeats (see `train_loop.compare`).

    python bench/lstm.py            # bs 64, 70 steps, 300 units (the course's sizes), 15 repeats
    python bench/lstm.py --quick    # bs 8, 10 steps, 32 units, 1 repeat: a smoke run, not a measurement
"""
import argparse, platform, sys, warnings
from pathlib import Path
from typing import List, Tuple

import torch
from torch import nn, Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import compare                                             # noqa: E402
from course_lib.awd_lstm import LSTMCell, LSTMLayer                        # noqa: E402


class ScriptCell(nn.Module):
    "The 2019 TorchScript cell: raw weights, type annotations, gates in PyTorch's order."
    def __init__(self, ni, nh):
        super().__init__()
        self.w_ih, self.w_hh = nn.Parameter(torch.randn(4 * nh, ni)), nn.Parameter(torch.randn(4 * nh, nh))
        self.b_ih, self.b_hh = nn.Parameter(torch.randn(4 * nh)), nn.Parameter(torch.randn(4 * nh))

    def forward(self, input: Tensor, state: Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        h, c = state
        gates = input @ self.w_ih.t() + self.b_ih + h @ self.w_hh.t() + self.b_hh
        i, f, g, o = gates.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class ScriptLayer(nn.Module):
    def __init__(self, ni, nh):
        super().__init__()
        self.cell = ScriptCell(ni, nh)

    def forward(self, input: Tensor, state: Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        outputs: List[Tensor] = []
        for x in input.unbind(1):
            out, state = self.cell(x, state)
            outputs.append(out)
        return torch.stack(outputs, dim=1), state


def layers(n):
    "`nn.LSTM`, our layer, and the scripted layer (None if scripting fails), all with the same weights."
    lstm = nn.LSTM(n, n, batch_first=True)
    ours = LSTMLayer(LSTMCell, n, n)
    with torch.no_grad():
        for lin, k in [(ours.cell.ih, 'ih_l0'), (ours.cell.hh, 'hh_l0')]:
            lin.weight.copy_(getattr(lstm, f'weight_{k}'))
            lin.bias.copy_(getattr(lstm, f'bias_{k}'))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')                  # TorchScript's deprecation notice
            scripted = ScriptLayer(n, n)
            with torch.no_grad():
                for k in ['ih', 'hh']:
                    getattr(scripted.cell, f'w_{k}').copy_(getattr(lstm, f'weight_{k}_l0'))
                    getattr(scripted.cell, f'b_{k}').copy_(getattr(lstm, f'bias_{k}_l0'))
            scripted = torch.jit.script(scripted)
    except Exception as e:                                   # noqa: BLE001 -- report why and go on without it
        print(f'torch.jit.script failed ({type(e).__name__}: {str(e).splitlines()[0]}): its row is skipped')
        scripted = None
    return lstm, ours, scripted


def fwd_bwd(layer, x, state):
    "A zero-argument callable: one forward pass of `x` and one backward pass of the outputs' sum."
    def run():
        layer.zero_grad()
        y, _ = layer(x, state)
        y.sum().backward()
        return y
    return run


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='small sizes, 1 repeat: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 15, or 1 with --quick)')
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    bs, sl, n = (8, 10, 32) if a.quick else (64, 70, 300)
    repeats = a.repeats or (1 if a.quick else 15)
    print(f'Python {platform.python_version()}, torch {torch.__version__}, one thread; bs {bs}, {sl} steps, '
          f'{n} units, {repeats} repeats')
    lstm, ours, scripted = layers(n)
    x, zeros = torch.randn(bs, sl, n), torch.zeros(bs, n)
    cands = {'nn.LSTM': fwd_bwd(lstm, x, (zeros[None], zeros[None])),
             'LSTMLayer(LSTMCell)': fwd_bwd(ours, x, (zeros, zeros))}
    if scripted is not None: cands['torch.jit.script layer'] = fwd_bwd(scripted, x, (zeros, zeros))
    ref = cands['nn.LSTM']()
    for name, f in cands.items(): torch.testing.assert_close(f(), ref, atol=1e-5, rtol=0, msg=name)
    compare(cands, repeats=repeats, title='**Forward + backward of one batch**')
    w, pr = torch.empty(4 * (32 if a.quick else 1150), 32 if a.quick else 1150), 0.5
    compare({'bernoulli_(1-p) (2019)': lambda: w.new_empty(w.shape).bernoulli_(1 - pr).div_(1 - pr),
             'uniform_() >= p (lesson)': lambda: (w.new_empty(w.shape).uniform_() >= pr).to(w.dtype).div_(1 - pr)},
            repeats=repeats, title=f'**A dropout mask of shape {tuple(w.shape)}, p = {pr}**')


if __name__ == '__main__': main()
