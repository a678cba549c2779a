"""Inference with batch norm folded into the convolutions, against the same model unfused, side by side.

The model: the lesson's five stride-2 convolutions (8-16-32-64-64 channels, 5x5 then 3x3, on 1x28x28 digits-sized
input), each as conv (no bias) -> batch norm -> ReLU, the order that can be folded; then average pooling and a linear
layer. Its batch norms have seen 20 training batches (so their running statistics and weights are not the defaults),
then everything is timed in eval mode under `torch.no_grad()`, as inference runs. One call = forward passes over
`n_batches` batches of `bs` images.

Contenders:

* `unfused, BatchNorm` -- course_lib's `BatchNorm` layers (the base);
* `fused, fuse_bn` -- `course_lib.batchnorm.fuse_bn` of that model: each conv + BatchNorm pair is one conv;
* `unfused, nn.BatchNorm2d` -- the same model with PyTorch's `nn.BatchNorm2d` (one fused C++ kernel per layer:
  the best unfused alternative);
* `fused, torch fuse_conv_bn_eval` -- the nn.BatchNorm2d model folded by `torch.nn.utils.fusion.fuse_conv_bn_eval`
  (PyTorch's own folding: the best fused alternative; it should time as `fused, fuse_bn` does).

All four compute the same function: the script prints their largest output difference from the base first.

Then, since batch norm also runs in every training step, the same model's training step (forward, cross-entropy,
backward, SGD step; `n_batches` steps per call at each batch size) with course_lib's `BatchNorm` (the base), PyTorch's
`nn.BatchNorm2d` (one fused kernel forward and backward: the best alternative) and course_lib's `RunningBatchNorm`.
Method: one thread, interleaved repeats (forward then reverse order), medians of per-repeat ratios to the base,
process CPU time by default (`train_loop.compare`); `unfused, BatchNorm (A/A)` is the base again under a second name,
its ratio is the noise floor.

    python bench/fuse_bn.py            # 15 repeats at bs 64 and 512
    python bench/fuse_bn.py --quick    # 3 repeats of 2 batches at bs 64: a smoke run, not a measurement
    python bench/fuse_bn.py --no-train # inference only
"""
import argparse, copy, os, platform, sys
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import CLOCKS, compare                                     # noqa: E402

import torch.nn.functional as F                                            # noqa: E402
from course_lib.batchnorm import BatchNorm, RunningBatchNorm, fuse_bn      # noqa: E402

NFS = (8, 16, 32, 64, 64)


def conv_bn_relu_model(bn, nfs=NFS, n_out=10):
    "Stride-2 conv -> `bn(nf)` -> ReLU blocks (5x5 first, then 3x3), average pooling, a linear layer."
    chans, layers = (1,) + tuple(nfs), []
    for i, (ni, nf) in enumerate(zip(chans, chans[1:])):
        ks = 5 if i == 0 else 3
        layers.append(nn.Sequential(nn.Conv2d(ni, nf, ks, stride=2, padding=ks // 2, bias=False), bn(nf), nn.ReLU()))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(nfs[-1], n_out))


def torch_fused(model):
    "A copy of `model` (eval mode) with each conv + nn.BatchNorm2d pair folded by PyTorch's `fuse_conv_bn_eval`."
    model = copy.deepcopy(model).eval()
    for block in model:
        if isinstance(block, nn.Sequential) and isinstance(block[1], nn.BatchNorm2d):
            block[0], block[1] = fuse_conv_bn_eval(block[0], block[1]), nn.Identity()
    return model


def make_models(seed=0):
    "The four models, all computing the same function: ours and PyTorch's batch norm share weights and statistics."
    torch.manual_seed(seed)
    ours = conv_bn_relu_model(BatchNorm)
    for m in ours.modules():
        if isinstance(m, BatchNorm):
            with torch.no_grad(): m.mults.uniform_(0.5, 1.5); m.adds.normal_(0, 0.1)
    with torch.no_grad():
        for _ in range(20): ours(torch.rand(64, 1, 28, 28))
    ref = conv_bn_relu_model(nn.BatchNorm2d)
    ref.load_state_dict(ours.state_dict(), strict=False)                   # the convolutions and the linear layer
    for a, b in zip(ours.modules(), ref.modules()):
        if isinstance(a, BatchNorm):
            with torch.no_grad():
                for src, dst in ((a.mults, b.weight), (a.adds, b.bias), (a.means, b.running_mean), (a.vars, b.running_var)):
                    dst.copy_(src.flatten())
    ours.eval(); ref.eval()
    return {'unfused, BatchNorm': ours, 'fused, fuse_bn': fuse_bn(ours),
            'unfused, nn.BatchNorm2d': ref, 'fused, torch fuse_conv_bn_eval': torch_fused(ref)}


def training_steps(model, opt, batches, targets):
    "SGD steps of `model` over `batches`."
    model.train()
    for xb, yb in zip(batches, targets):
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
        opt.zero_grad()


def train_candidates(batches, targets, seed=0):
    "One zero-argument callable per batch-norm layer, each training its own copy of the model (same initial weights)."
    cands = {}
    for name, bn in (('train step, BatchNorm', BatchNorm), ('train step, nn.BatchNorm2d', nn.BatchNorm2d),
                     ('train step, RunningBatchNorm', RunningBatchNorm)):
        torch.manual_seed(seed)
        model = conv_bn_relu_model(bn)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        cands[name] = lambda model=model, opt=opt: training_steps(model, opt, batches, targets)
    return cands


def forward_passes(model, batches):
    "Forward passes of `model` over `batches` under no_grad; the last output."
    with torch.no_grad():
        for xb in batches: out = model(xb)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='3 repeats of 2 batches at bs 64: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 15, or 3 with --quick)')
    p.add_argument('--bs', type=int, nargs='+', default=None, help='batch sizes (default 64 and 512, or 64 with --quick)')
    p.add_argument('--batches', type=int, default=None, help='batches per call (default 20, or 2 with --quick)')
    p.add_argument('--clock', choices=list(CLOCKS), default='cpu', help='cpu: process CPU time (default); wall: elapsed time')
    p.add_argument('--no-train', action='store_true', help='leave out the training-step comparison')
    a = p.parse_args()
    repeats, n_batches = a.repeats or (3 if a.quick else 15), a.batches or (2 if a.quick else 20)
    a.bs = a.bs or ([64] if a.quick else [64, 512])
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    models = make_models()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread, {platform.processor() or platform.machine()}, '
          f'{os.cpu_count()} CPUs, python {platform.python_version()}; model: conv-BN-ReLU x {len(NFS)} {NFS}, eval mode, '
          f'{n_batches} batches per call; {repeats} interleaved repeats, {a.clock} clock')
    for bs in a.bs:
        g = torch.Generator().manual_seed(bs)
        batches = [torch.rand(bs, 1, 28, 28, generator=g) for _ in range(n_batches)]
        outs = {name: forward_passes(m, batches) for name, m in models.items()}
        base = next(iter(outs.values()))
        print(f'\nbs {bs}: largest output difference from the unfused BatchNorm model: '
              + ', '.join(f'{name} {(o - base).abs().max().item():.1e}' for name, o in outs.items()))
        cands = {name: (lambda m=m: forward_passes(m, batches)) for name, m in models.items()}
        compare(cands, repeats=repeats, warmup=1, clock=a.clock,
                title=f'### bs = {bs}: {n_batches} eval forward passes, ratios to the unfused BatchNorm model')
    for bs in ([] if a.no_train else a.bs):
        g = torch.Generator().manual_seed(bs + 1)
        batches = [torch.rand(bs, 1, 28, 28, generator=g) for _ in range(n_batches)]
        targets = [torch.randint(0, 10, (bs,), generator=g) for _ in range(n_batches)]
        compare(train_candidates(batches, targets), repeats=repeats, warmup=1, clock=a.clock,
                title=f'### bs = {bs}: {n_batches} training steps, ratios to the model with course_lib BatchNorm')


if __name__ == '__main__':
    main()
