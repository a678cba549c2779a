"""One epoch of minibatch training (plus a validation pass), three ways, side by side.

(a) `hand loop`: slices a shuffled index permutation by hand (the floor);
(b) `torch DataLoader`: `torch.utils.data.DataLoader` over a `TensorDataset` (per-sample fetch + default_collate);
(c) `course_lib`: `course_lib.minibatch.DataLoader` (one indexing op per batch) driven by `course_lib.minibatch.fit`.

Everything else is shared: the same 50,000 x 784 float32 training tensors and 10,000 validation samples, the
784-50-10 model (fresh, same seed, every run), `F.cross_entropy`, `torch.optim.SGD`, validation batches of 2*bs.
(b) and (c) both run `fit`, so they differ only in the data pipeline. `fit` also keeps the training loss and accuracy
(sums of `loss * bs` and of correct predictions, kept as tensors and read once per epoch), and so does the hand loop here
(`train_stats=True`), so that all three do the same work. One thread, runs interleaved
(A A' B C, then C B A' A, ...), medians of per-repeat ratios to (a), process CPU time by default
(the machine this was written on is shared, so wall time mostly measures the neighbours); `hand loop (A/A)` is (a) again under a
second name, so its ratio shows the noise floor.

    python bench/train_loop.py            # 15 repeats at bs 64 and 512
    python bench/train_loop.py --quick    # a smoke run: 1 repeat at bs 64 on 4,096 + 1,024 samples

Reusable pieces (import with `sys.path.insert(0, 'bench')`): `make_data`, `make_model_and_opt`, `hand_loop_epoch`,
`compare`.
"""
import argparse, gc, platform, statistics, time
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.minibatch import Dataset, fit, get_dls


def make_data(n_train=50_000, n_valid=10_000, n_in=784, n_out=10, seed=0):
    "MNIST-shaped synthetic data `(x, y, x_valid, y_valid)`: float32 pixels in [0, 1], about 80% zeros; labels from a random linear teacher."
    g = torch.Generator().manual_seed(seed)
    n = n_train + n_valid
    x = torch.rand(n, n_in, generator=g)
    x.masked_fill_(torch.rand(n, n_in, generator=g) > 0.2, 0.)
    y = (x @ torch.randn(n_in, n_out, generator=g)).argmax(-1)
    return x[:n_train].clone(), y[:n_train].clone(), x[n_train:].clone(), y[n_train:].clone()


def make_model_and_opt(lr=0.1, seed=0, n_in=784, nh=50, n_out=10):
    "The lesson's `Linear`-`ReLU`-`Linear` model, initialised from `seed`, and `torch.optim.SGD` with learning rate `lr`."
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out))
    return model, torch.optim.SGD(model.parameters(), lr=lr)


def hand_loop_epoch(model, opt, loss_func, x, y, xv, yv, bs, generator=None, train_stats=False):
    "The floor: one epoch over a shuffled permutation sliced into batches of `bs`, then a validation pass in slices of `2*bs`; returns `(valid_loss, valid_acc)`, preceded by `(train_loss, train_acc)` if `train_stats`."
    n = len(x)
    perm = torch.randperm(n, generator=generator)
    model.train()
    tot_loss, correct = 0., 0
    for i in range(0, n, bs):
        idx = perm[i:i + bs]
        yb = y[idx]
        pred = model(x[idx])
        loss = loss_func(pred, yb)
        loss.backward()
        opt.step()
        opt.zero_grad()
        if train_stats: tot_loss, correct = tot_loss + loss.detach() * len(yb), correct + (pred.argmax(-1) == yb).sum()
    valid = validate(model, loss_func, xv, yv, 2 * bs)
    return (float(tot_loss) / n, float(correct) / n, *valid) if train_stats else valid


def validate(model, loss_func, xv, yv, vbs):
    "The validation pass every hand loop shares: slices of `vbs`, no gradients; returns `(valid_loss, valid_acc)`."
    model.eval()
    tot_loss, tot_acc = 0., 0.
    with torch.no_grad():
        for i in range(0, len(xv), vbs):
            xb, yb = xv[i:i + vbs], yv[i:i + vbs]
            pred = model(xb)
            tot_loss += loss_func(pred, yb).item() * len(yb)
            tot_acc += (pred.argmax(-1) == yb).float().mean().item() * len(yb)
    return tot_loss / len(xv), tot_acc / len(xv)


CLOCKS = {'cpu': time.process_time, 'wall': time.perf_counter}


def _timed(fn, clock):
    gc.collect()
    t0 = clock()
    fn()
    return clock() - t0


def compare(candidates, repeats=15, warmup=1, aa=True, title=None, show=True, clock='cpu'):
    """Time each zero-argument callable in `candidates` (name -> callable) `repeats` times, interleaved.

    Each repeat runs every candidate once, alternating forward and reverse order. With `aa`, the first candidate runs
    a second time under the name '<first> (A/A)'. Ratios are medians over repeats of time / first candidate's time
    in the same repeat. `clock` is 'cpu' (this process's CPU time: robust on a shared, busy machine when torch runs
    one thread) or 'wall'. Prints a markdown table (if `show`) and returns
    {name: dict(median_s, ratio, ratio_lo, ratio_hi, times)}."""
    fns = dict(candidates)
    base = next(iter(fns))
    if aa: fns[f'{base} (A/A)'] = fns[base]
    names = list(fns)
    for _ in range(warmup):
        for name in names: fns[name]()
    times = {name: [] for name in names}
    for r in range(repeats):
        for name in (names if r % 2 == 0 else names[::-1]): times[name].append(_timed(fns[name], CLOCKS[clock]))
    res = {}
    for name in names:
        ratios = sorted(t / b for t, b in zip(times[name], times[base]))
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        res[name] = dict(median_s=statistics.median(times[name]), ratio=statistics.median(ratios),
                         ratio_lo=q[0], ratio_hi=q[2], times=times[name])
    if show:
        if title: print(f'\n{title}\n')
        print(f'| candidate | median {clock} time (s) | ratio to {base} | ratio IQR |')
        print('|---|---:|---:|---:|')
        for name, r in res.items():
            print(f"| {name} | {r['median_s']:.3f} | {r['ratio']:.3f}x | {r['ratio_lo']:.3f}-{r['ratio_hi']:.3f} |")
    return res


def candidates_for(data, bs, lr=0.1, seed=0):
    "The three contenders for batch size `bs` on `data = make_data(...)`, each a zero-argument callable running one epoch from a fresh model."
    x, y, xv, yv = data
    train_ds, valid_ds = Dataset(x, y), Dataset(xv, yv)
    tds, tvds = torch.utils.data.TensorDataset(x, y), torch.utils.data.TensorDataset(xv, yv)

    def hand():
        model, opt = make_model_and_opt(lr, seed)
        return hand_loop_epoch(model, opt, F.cross_entropy, x, y, xv, yv, bs, torch.Generator().manual_seed(seed), train_stats=True)

    def torch_dl():
        model, opt = make_model_and_opt(lr, seed)
        train_dl = torch.utils.data.DataLoader(tds, batch_size=bs, shuffle=True, generator=torch.Generator().manual_seed(seed))
        valid_dl = torch.utils.data.DataLoader(tvds, batch_size=2 * bs)
        return tuple(fit(1, model, F.cross_entropy, opt, train_dl, valid_dl, verbose=False)[-1].values())[1:]

    def course():
        model, opt = make_model_and_opt(lr, seed)
        train_dl, valid_dl = get_dls(train_ds, valid_ds, bs, generator=torch.Generator().manual_seed(seed))
        return tuple(fit(1, model, F.cross_entropy, opt, train_dl, valid_dl, verbose=False)[-1].values())[1:]

    return {'hand loop': hand, 'torch DataLoader': torch_dl, 'course_lib DataLoader + fit': course}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='1 repeat at bs 64 on 4,096 + 1,024 samples: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 15, or 1 with --quick)')
    p.add_argument('--bs', type=int, nargs='+', default=[64, 512])
    p.add_argument('--lr', type=float, default=0.1)
    p.add_argument('--clock', choices=list(CLOCKS), default='cpu', help='cpu: process CPU time (default); wall: elapsed time')
    a = p.parse_args()
    repeats = a.repeats or (1 if a.quick else 15)
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    data = make_data(4096, 1024) if a.quick else make_data()
    if a.quick: a.bs = a.bs[:1]
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread, {platform.processor() or platform.machine()}, '
          f'python {platform.python_version()}; train {tuple(data[0].shape)}, valid {tuple(data[2].shape)}; '
          f'{repeats} interleaved repeats, lr {a.lr}, {a.clock} clock')
    for bs in a.bs:
        cands = candidates_for(data, bs, a.lr)
        for name, fn in cands.items(): print(f'bs {bs}, {name}: train loss, accuracy, valid loss, accuracy after one epoch = {fn()}')
        compare(cands, repeats=repeats, warmup=0, clock=a.clock, title=f'### bs = {bs}: one epoch ({len(data[0]):,} train + {len(data[2]):,} valid samples)')


if __name__ == '__main__':
    main()
