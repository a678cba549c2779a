"""What the callback `Runner` and the `Learner` cost, measured fairly: each ratio compares two loops doing the same work.

One epoch (training plus validation) on the same 50,000 x 784 float32 training and 10,000 validation tensors from
`train_loop.make_data`, the 784-50-10 model from `train_loop.make_model_and_opt` rebuilt from the same seed every run,
`F.cross_entropy`, `torch.optim.SGD`, training batches of bs and validation batches of 2*bs. Every loop fetches its
batches the way course_lib's `DataLoader` does: one `x[idx], y[idx]` per batch, `idx` a slice of a shuffled
permutation (training) or of `arange` (validation).

* `hand loop` -- training steps, then the validation forward pass and loss, nothing read: the floor.
* `hand loop + AvgStats statistics` -- the same, plus exactly what `AvgStatsCallback` computes, inline: for every
  batch of both passes, the loss and `accuracy` stacked and added, times the batch size, to float64 sums; each pass's
  sums read once.
* `Runner` -- `course_lib.callbacks.Runner()` (only its `TrainEvalCallback`) over `get_dls` loaders.
* `Runner + AvgStatsCallback` -- the same with `AvgStatsCallback(accuracy)`, its epoch line sent to a logger that drops it.
* `Learner + AvgStatsCallback` -- `course_lib.learner.Learner` (09b, the runner that owns what it trains) with
  `course_lib.progress.AvgStatsCallback(accuracy)` (09c: the same statistics, timed, as rows of a table).
* `Learner + AvgStatsCallback + ProgressCallback` -- plus `course_lib.progress.ProgressCallback(bars=False)` (the plain
  table rows that a log or CI gets); `--bars` adds a row with fastprogress's console bars forced on, written to a
  `StringIO`.
* optional peers, when importable: `ignite` and `lightning` (fed course_lib's `Dataset` and `Sampler`); skipped with a
  message when not installed.

The fair ratios (per-repeat medians, with quartiles), printed under each table beside the A/A control (the hand
loop run twice under two names, whose ratio is the noise floor):

    Runner + AvgStatsCallback / hand loop + AvgStats statistics      bar <= 1.05
    Runner / hand loop                                               bar <= 1.03
    Learner + AvgStatsCallback / hand loop + AvgStats statistics     bar <= 1.05
    Learner + AvgStatsCallback + ProgressCallback / Learner + AvgStatsCallback   bar <= 1.05

Method: one thread, candidates interleaved within each repeat (forward then reverse order), process CPU time by
default (`train_loop.compare`).

    python bench/runner.py            # 21 repeats at bs 64 and 512
    python bench/runner.py --quick    # 1 repeat on 4,096 samples at bs 64: a smoke run, not a measurement
    python bench/runner.py --ops      # instead: what each per-batch operation of AvgStats costs, in us per batch
"""
import argparse, contextlib, io, logging, os, platform, statistics, sys, warnings
from functools import partial
from types import SimpleNamespace
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import CLOCKS, compare, make_data, make_model_and_opt, validate   # noqa: E402

from course_lib.callbacks import AvgStats, AvgStatsCallback, DataBunch, Learner, Runner   # noqa: E402
from course_lib.minibatch import Dataset, accuracy, get_dls                                # noqa: E402
from course_lib import learner as learner09b, progress                                     # noqa: E402


def hand_loop(model, opt, loss_func, x, y, xv, yv, bs, generator=None, stats=False):
    "One epoch as course_lib's loaders feed it; with `stats`, also what `AvgStatsCallback` computes, inline."
    def one_pass(xs, ys, idxs, train):
        sums = torch.zeros(2, dtype=torch.float64)
        for idx in idxs:
            xb, yb = xs[idx], ys[idx]
            pred = model(xb)
            loss = loss_func(pred, yb)
            if stats: sums.add_(torch.stack([loss.detach(), accuracy(pred.detach(), yb)]), alpha=len(yb))
            if train:
                loss.backward()
                opt.step()
                opt.zero_grad()
        return (sums / len(xs)).tolist() if stats else None
    model.train()
    one_pass(x, y, torch.randperm(len(x), generator=generator).split(bs), True)
    model.eval()
    with torch.no_grad(): return one_pass(xv, yv, torch.arange(len(xv)).split(2 * bs), False)


def stat_op_candidates(data, bs, lr=0.1, seed=0):
    """`--ops`: the hand loop's training epoch plus, after every batch, a growing part of what `AvgStats` does there, so
    that each row's extra time is the cost of those operations; `AvgStats.accumulate` itself is the last row."""
    x, y, xv, yv = data
    one, stats, batch = torch.tensor(1.), AvgStats([accuracy], True), SimpleNamespace()
    def detach(loss, pred, yb): loss.detach(); pred.detach()
    def argmax(loss, pred, yb): pred.detach().argmax(-1)
    def argmax_eq(loss, pred, yb): pred.detach().argmax(-1) == yb
    def acc_ops(loss, pred, yb): (pred.detach().argmax(-1) == yb).mean(dtype=torch.float32)
    def acc(loss, pred, yb): accuracy(pred.detach(), yb)
    def stack(loss, pred, yb): torch.stack([loss.detach(), one])
    def stack_add(loss, pred, yb, sums=torch.zeros(2, dtype=torch.float64)): sums.add_(torch.stack([loss.detach(), one]), alpha=len(yb))
    def accumulate(loss, pred, yb):
        batch.xb, batch.yb, batch.pred, batch.loss = yb, yb, pred, loss
        stats.accumulate(batch)
    def epoch(extra):
        def f():
            model, opt = make_model_and_opt(lr, seed)
            perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
            model.train()
            for i in range(0, len(x), bs):
                idx = perm[i:i + bs]
                xb, yb = x[idx], y[idx]
                pred = model(xb)
                loss = F.cross_entropy(pred, yb)
                if extra: extra(loss, pred, yb)
                loss.backward()
                opt.step()
                opt.zero_grad()
            return validate(model, F.cross_entropy, xv, yv, 2 * bs)
        return f
    return {'hand loop': epoch(None), '+ loss.detach(), pred.detach()': epoch(detach), '+ argmax': epoch(argmax),
            '+ argmax, ==': epoch(argmax_eq), '+ argmax, ==, mean(dtype=float32)': epoch(acc_ops),
            '+ accuracy() (the same, with its argument checks)': epoch(acc), '+ stack of 2': epoch(stack),
            '+ stack of 2, add_ into float64 sums': epoch(stack_add), '+ AvgStats.accumulate (accuracy, stack, add_)': epoch(accumulate)}


def us_per_batch(res, n_batches):
    "Per-repeat median of (row time - hand loop time) / training batches, in microseconds."
    base = next(iter(res))
    return {k: 1e6 * statistics.median((t - b) / n_batches for t, b in zip(r['times'], res[base]['times'])) for k, r in res.items()}


def ignite_epoch(model, opt, train_dl, valid_dl):
    "One epoch with pytorch-ignite's supervised trainer/evaluator, loss and accuracy metrics on both passes."
    from ignite.engine import create_supervised_evaluator, create_supervised_trainer
    from ignite.metrics import Accuracy, Loss
    trainer = create_supervised_trainer(model, opt, F.cross_entropy,
                                        output_transform=lambda x, y, y_pred, loss: (y_pred.detach(), y))
    Loss(F.cross_entropy).attach(trainer, 'loss'); Accuracy().attach(trainer, 'accuracy')
    evaluator = create_supervised_evaluator(model, metrics={'loss': Loss(F.cross_entropy), 'accuracy': Accuracy()})
    trainer.run(train_dl, max_epochs=1)
    m = evaluator.run(valid_dl).metrics
    return m['loss'], m['accuracy']


def lightning_epoch(model, opt, train_dl, valid_dl):
    "One epoch with PyTorch Lightning's Trainer (logger, progress bar, checkpoints, summary and sanity check off)."
    import pytorch_lightning as pl

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = model
        def forward(self, x): return self.model(x)
        def configure_optimizers(self): return opt
        def _step(self, batch, prefix):
            xb, yb = batch
            pred = self.model(xb)
            loss = F.cross_entropy(pred, yb)
            self.log(f'{prefix}_loss', loss, on_step=False, on_epoch=True, batch_size=len(yb))
            self.log(f'{prefix}_acc', accuracy(pred.detach(), yb), on_step=False, on_epoch=True, batch_size=len(yb))
            return loss
        def training_step(self, batch, i): return self._step(batch, 'train')
        def validation_step(self, batch, i): return self._step(batch, 'valid')

    trainer = pl.Trainer(max_epochs=1, accelerator='cpu', devices=1, logger=False, enable_progress_bar=False,
                         enable_checkpointing=False, enable_model_summary=False, num_sanity_val_steps=0)
    # Lightning inspects `batch_sampler`, which only PyTorch's DataLoader has: wrap ours, keeping one indexing op per batch
    as_torch = lambda dl: torch.utils.data.DataLoader(dl.ds, batch_size=None, sampler=dl.sampler)
    trainer.fit(Module(), as_torch(train_dl), as_torch(valid_dl))
    m = trainer.callback_metrics
    return float(m['valid_loss']), float(m['valid_acc'])


def peers():
    "Which optional peers import, and a message for each that does not."
    found, msgs = {}, []
    for name, mod in (('ignite', 'ignite'), ('lightning', 'pytorch_lightning')):
        try:
            found[name] = __import__(mod).__version__
        except Exception as e:                      # not installed, or broken beside this torch: skip it
            msgs.append(f'skipping {name}: cannot import {mod} ({type(e).__name__}: {e})')
    return found, msgs


def candidates_for(data, bs, lr=0.1, seed=0, use_peers=(), bars=False):
    "The contenders for batch size `bs`, each a zero-argument callable running one epoch from a fresh model."
    x, y, xv, yv = data
    train_ds, valid_ds = Dataset(x, y), Dataset(xv, yv)
    gen = lambda: torch.Generator().manual_seed(seed)

    def hand(stats=False):
        model, opt = make_model_and_opt(lr, seed)
        r = hand_loop(model, opt, F.cross_entropy, x, y, xv, yv, bs, gen(), stats)
        return tuple(r) if stats else None

    def runner(cb_funcs=()):
        model, opt = make_model_and_opt(lr, seed)
        data = DataBunch(*get_dls(train_ds, valid_ds, bs, generator=gen()), c=10)
        run = Runner(cb_funcs=list(cb_funcs))
        run.logger = lambda line: None                       # the bench's output stays a table
        with contextlib.redirect_stdout(io.StringIO()): run.fit(1, Learner(model, opt, F.cross_entropy, data))
        return tuple(run.avg_stats.valid_stats.avg_stats) if hasattr(run, 'avg_stats') else None

    def learner(cb_funcs=()):
        model, opt = make_model_and_opt(lr, seed)
        data = DataBunch(*get_dls(train_ds, valid_ds, bs, generator=gen()), c=10)
        learn = learner09b.Learner(model, data, F.cross_entropy, cb_funcs=list(cb_funcs))
        learn.opt, learn.logger = opt, (lambda line: None)  # the same torch SGD as the others; the output stays a table
        with contextlib.redirect_stdout(io.StringIO()): learn.fit(1)
        return tuple(learn.avg_stats.valid_stats.avg_stats)

    def peer(fn):
        def f():
            model, opt = make_model_and_opt(lr, seed)
            return fn(model, opt, *get_dls(train_ds, valid_ds, bs, generator=gen()))
        return f

    stats, table = partial(AvgStatsCallback, accuracy), partial(progress.AvgStatsCallback, accuracy)
    bar = lambda on: partial(progress.ProgressCallback, bars=on)
    cands = {'hand loop': hand, 'hand loop + AvgStats statistics': partial(hand, True), 'Runner': runner,
             'Runner + AvgStatsCallback': partial(runner, [stats]), 'Learner + AvgStatsCallback': partial(learner, [table]),
             'Learner + AvgStatsCallback + ProgressCallback': partial(learner, [table, bar(False)])}
    if bars: cands['... + ProgressCallback (bars)'] = partial(learner, [table, bar(True)])
    if 'ignite' in use_peers: cands['ignite'] = peer(ignite_epoch)
    if 'lightning' in use_peers: cands['lightning'] = peer(lightning_epoch)
    return cands


FAIR = [('Runner + AvgStatsCallback', 'hand loop + AvgStats statistics', 1.05), ('Runner', 'hand loop', 1.03),
        ('Learner + AvgStatsCallback', 'hand loop + AvgStats statistics', 1.05),
        ('Learner + AvgStatsCallback + ProgressCallback', 'Learner + AvgStatsCallback', 1.05),
        ('hand loop (A/A)', 'hand loop', None)]


def fair_ratios(res):
    "The per-repeat median ratio (and quartiles) of each pair in FAIR, as printable lines."
    lines = []
    for a, b, bar in FAIR:
        r = sorted(ta / tb for ta, tb in zip(res[a]['times'], res[b]['times']))
        q = statistics.quantiles(r, n=4) if len(r) > 1 else [r[0]] * 3
        verdict = '' if bar is None else f"  (bar <= {bar:.2f}: {'met' if statistics.median(r) <= bar else 'NOT met'})"
        lines.append(f"  {a} / {b}: {statistics.median(r):.3f}x [quartiles {q[0]:.3f}-{q[2]:.3f}]{verdict}")
    return '\n'.join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='1 repeat, 4,096 samples, bs 64: a smoke run')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 21, or 1 with --quick)')
    p.add_argument('--bars', action='store_true', help='also time ProgressCallback with console bars')
    p.add_argument('--bs', type=int, nargs='+', default=[64, 512])
    p.add_argument('--lr', type=float, default=0.1)
    p.add_argument('--no-peers', action='store_true', help='leave out ignite and lightning even if installed')
    p.add_argument('--ops', action='store_true', help='instead: the cost of each per-batch operation of AvgStats, in microseconds per training batch')
    p.add_argument('--clock', choices=list(CLOCKS), default='cpu', help='cpu: process CPU time (default); wall: elapsed time')
    a = p.parse_args()
    repeats = a.repeats or (1 if a.quick else 21)
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    warnings.filterwarnings('ignore')
    found, msgs = ({}, ['peers left out (--no-peers)']) if a.no_peers else peers()
    for name in list(logging.root.manager.loggerDict):             # after the imports: Lightning sets its levels on import
        if name.split('.')[0] in ('lightning', 'pytorch_lightning', 'lightning_fabric', 'ignite'):
            logging.getLogger(name).setLevel(logging.ERROR)
    for m in msgs: print(m)
    data = make_data(n_train=4_096, n_valid=1_024) if a.quick else make_data()
    if a.quick: a.bs = a.bs[:1]
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread, {platform.processor() or platform.machine()}, '
          f'{os.cpu_count()} CPUs, python {platform.python_version()}; '
          + ''.join(f'{k} {v}, ' for k, v in found.items())
          + f'train {tuple(data[0].shape)}, valid {tuple(data[2].shape)}; {repeats} interleaved repeats, lr {a.lr}, {a.clock} clock')
    if a.ops:
        for bs in a.bs:
            res = compare(stat_op_candidates(data, bs, a.lr), repeats=repeats, warmup=1, clock=a.clock,
                          title=f'### bs = {bs}: what AvgStats adds per training batch, one operation at a time')
            us = us_per_batch(res, -(-len(data[0]) // bs))
            print(f'\nextra {a.clock} time per training batch (per-repeat median, microseconds):')
            for k, v in us.items(): print(f'  {k}: {v:+.1f}')
        return
    for bs in a.bs:
        cands = candidates_for(data, bs, a.lr, use_peers=found, bars=a.bars)
        for name, fn in cands.items():
            r = fn()
            if name in found: torch.set_num_threads(1)          # in case a peer changed it
            print(f'bs {bs}, {name}: valid loss, accuracy after one epoch = '
                  f'{tuple(round(float(v), 4) for v in r) if r else "-"}')
        res = compare(cands, repeats=repeats, warmup=1, clock=a.clock,
                      title=f'### bs = {bs}: one epoch ({len(data[0]):,} train + {len(data[2]):,} valid samples), ratios to the hand loop')
        print(f'\nfair ratios at bs {bs} ({repeats} interleaved repeats, {a.clock} clock):\n{fair_ratios(res)}')


if __name__ == '__main__':
    main()
