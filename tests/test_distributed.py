"DistributedCallback: 2 gloo processes under torchrun train exactly like one process with twice the batch size."
import os, re, subprocess, sys, time
from pathlib import Path
import pytest, torch
from torch import nn
import torch.nn.functional as F
from unittest.mock import patch
from hypothesis import given, strategies as st
from course_lib.minibatch import Dataset, DataLoader, Sampler
from course_lib.callbacks import Learner, DataBunch, Runner
from course_lib.distributed import *

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import dist_train

def torchrun(tmp_path, *args, nproc=2, timeout=120):
    "Run tests/dist_train.py under torchrun on 2 CPU processes; the CompletedProcess and the elapsed seconds."
    env = {k: v for k, v in os.environ.items() if k not in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'LOCAL_RANK')}
    cmd = [str(Path(sys.executable).parent / 'torchrun'), '--standalone', '--nproc_per_node', str(nproc), str(HERE / 'dist_train.py'), *map(str, args)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path)
    return res, time.perf_counter() - t0

def load(p): return torch.load(p, weights_only=True)

@pytest.fixture(scope='module')
def one_process():
    "The reference: one process, batch size 16, no shuffle, momentum SGD, 2 epochs."
    learn, run = dist_train.train(n=64, bs=16, epochs=2)
    return learn.model.state_dict(), run.avg_stats.log

def test_two_ranks_equal_one_process(tmp_path, one_process):
    res, _ = torchrun(tmp_path, '--samples', 64, '--bs', 8, '--epochs', 2, '--out', tmp_path/'two.pt')
    assert res.returncode == 0, res.stderr[-3000:]
    two = load(tmp_path/'two.pt')
    state, log = one_process
    assert two['world'] == 2 and two['type'] == 'Sequential'     # unwrapped after fit: a plain module again
    for k in state: torch.testing.assert_close(two['state'][k], state[k], rtol=0, atol=1e-5)
    assert set(two['log']) == set(log)
    for k in log: assert two['log'][k] == pytest.approx(log[k], abs=1e-5), k   # global numbers, as one process computes them

def test_uneven_shards_end_cleanly(tmp_path):
    "65 samples, 2 ranks, bs 8: rank 0 has 5 batches, rank 1 has 4; DDP's join lets rank 1 wait instead of hanging."
    res, secs = torchrun(tmp_path, '--samples', 65, '--valid-samples', 41, '--bs', 8, '--epochs', 2, '--out', tmp_path/'un.pt', timeout=90)
    assert res.returncode == 0, res.stderr[-3000:]
    out = load(tmp_path/'un.pt')
    # the validation numbers are those of the final weights on all 41 samples, each counted once (not one rank's
    # shard, not an average of the ranks' averages, not padded): one process computes them from the saved weights
    learn, _ = dist_train.train(n=65, n_valid=41, bs=8, epochs=0)
    learn.model.load_state_dict(out['state'])
    xv, yv = learn.data.valid_dl.ds.x, learn.data.valid_dl.ds.y
    with torch.no_grad(): pred = learn.model(xv)
    assert out['log']['valid_loss'] == pytest.approx(F.cross_entropy(pred, yv).item(), abs=1e-5)
    assert out['log']['valid_accuracy'] == pytest.approx((pred.argmax(1) == yv).float().mean().item(), abs=1e-6)

def test_rank_failure_ends_launch(tmp_path):
    """A rank raising in after_batch makes the whole launch exit non-zero, without waiting for the process-group timeout.

    The group's timeout (600 s) is far longer than the launch may take (`subprocess.run` raises after 120 s): only
    torchrun tearing the other rank down, or gloo seeing its peer go, ends the launch in time."""
    res, _ = torchrun(tmp_path, '--samples', 256, '--bs', 8, '--epochs', 500, '--fail-rank', 1, '--timeout', 600, timeout=120)
    assert res.returncode != 0
    assert 'rank 1 fails on purpose' in res.stderr + res.stdout

def test_one_writer(tmp_path):
    "Progress rows and checkpoints come from rank 0 only; every rank loads the best weights after rank 0 wrote them."
    res, _ = torchrun(tmp_path, '--samples', 64, '--bs', 8, '--epochs', 3, '--progress', '--save', tmp_path/'models', '--out', tmp_path/'two.pt')
    assert res.returncode == 0, res.stderr[-3000:]
    rows = [l for l in res.stdout.splitlines() if l.split()[:1] and l.split()[0].isdigit()]
    assert sum(l.startswith('epoch') for l in res.stdout.splitlines()) == 1, res.stdout    # one header: rank 0's table
    assert len(rows) == 3, res.stdout                                                       # one row per epoch, not per rank
    assert sorted(p.name for p in (tmp_path/'models').iterdir()) == ['best.pth']            # no stray temporary files
    best = torch.load(tmp_path/'models'/'best.pth', weights_only=True)
    final = load(tmp_path/'two.pt')['state']
    for k in best: torch.testing.assert_close(final[k], best[k])                            # loaded back after fit

def test_single_process_is_a_no_op():
    "Outside a distributed launch the callback changes nothing: same model object, same samplers."
    learn, run = dist_train.train(n=32, bs=8, epochs=1)
    assert type(learn.model) is nn.Sequential and type(learn.data.train_dl.sampler) is Sampler

@given(st.integers(0, 50), st.integers(1, 9), st.integers(1, 4), st.booleans(), st.integers(0, 3))
def test_shards_use_each_sample_once(n, bs, world, shuffle, epoch):
    "Across ranks, the shards of one epoch are a partition of the dataset: every sample once, no padding."
    ds = Dataset(torch.arange(n), torch.arange(n))
    samplers = [ShardedSampler(ds, bs, r, world, shuffle=shuffle, seed=3) for r in range(world)]
    for s in samplers: s.set_epoch(epoch)
    idxs = torch.cat([i for s in samplers for i in s] or [torch.zeros(0, dtype=torch.long)])
    assert sorted(idxs.tolist()) == list(range(n))
    assert all(len(list(s)) == len(s) for s in samplers)
    assert all(len(b) <= bs for s in samplers for b in s)

def test_same_permutation_on_every_rank_new_each_epoch():
    ds = Dataset(torch.arange(40), torch.arange(40))
    def epoch_order(e):
        ss = [ShardedSampler(ds, 40, r, 2, shuffle=True, seed=0) for r in range(2)]
        for s in ss: s.set_epoch(e)
        return [next(iter(s)) for s in ss]
    a, b = epoch_order(0), epoch_order(1)
    assert torch.equal(torch.stack([a[0], a[1]], 1).flatten()[:40].sort().values, torch.arange(40))
    assert not torch.equal(a[0], b[0])
    assert torch.equal(epoch_order(0)[1], a[1])     # the same seed and epoch give the same shard again

GOOD = dict(RANK='0', WORLD_SIZE='2', MASTER_ADDR='localhost', MASTER_PORT='29500')


def test_torch_dataloader_is_refused_before_any_rendezvous():
    "A PyTorch DataLoader cannot have its sampler swapped after creation: a clear error says what to build instead."
    learn, run = dist_train.train(n=8, bs=4, epochs=0)
    learn.data.train_dl = torch.utils.data.DataLoader(learn.data.train_dl.ds, batch_size=4)
    with patch.dict(os.environ, GOOD), pytest.raises(TypeError, match=r'data.train_dl \(DataLoader\) must be a course_lib'):
        run.fit(1, learn)                      # would wait 60 s for rank 1 if it met the others first
    assert not torch.distributed.is_initialized()


@pytest.mark.parametrize('env, drop, name', [(dict(RANK='2'), (), '$RANK'), (dict(RANK='-1'), (), '$RANK'),
                                             (dict(WORLD_SIZE='x'), (), '$WORLD_SIZE'), ({}, ('MASTER_PORT',), '$MASTER_PORT'),
                                             (dict(LOCAL_RANK='2'), (), '$LOCAL_RANK')])
def test_launch_is_checked_before_any_rendezvous(env, drop, name):
    "Each wrong launch variable is named at once, by init_distributed and by DistributedCallback, before waiting for peers."
    learn, run = dist_train.train(n=8, bs=4, epochs=0)
    with patch.dict(os.environ, {**GOOD, **env}):
        for k in drop: os.environ.pop(k)
        for call in (init_distributed, lambda: run.fit(1, learn)):
            with pytest.raises(ValueError, match=re.escape(name)): call()
    assert not torch.distributed.is_initialized() and type(learn.model) is nn.Sequential


def test_slurm_tasks_without_torch_variables_are_named():
    "A bare `srun -n 4 python train.py`: init_distributed refuses, the callback warns that each task trains alone."
    learn, run = dist_train.train(n=8, bs=4, epochs=0)
    with patch.dict(os.environ, SLURM_PROCID='1', SLURM_NTASKS='4'):
        for k in (*GOOD, 'LOCAL_RANK'): os.environ.pop(k, None)
        with pytest.raises(ValueError, match='SLURM started 4 tasks'): init_distributed()
        with pytest.warns(UserWarning, match='each task would train alone'): run.fit(1, learn)
    with patch.dict(os.environ, SLURM_PROCID='0', SLURM_NTASKS='1'):          # one task: nothing to say
        import warnings
        with warnings.catch_warnings(): warnings.simplefilter('error'); run.fit(1, learn)


def test_sampler_seed_and_epoch_are_checked_where_given():
    s = ShardedSampler(Dataset(torch.arange(6), torch.arange(6)), 2, 0, 2, shuffle=True)
    with pytest.raises(TypeError, match='epoch'): s.set_epoch(0.5)
    with pytest.raises(TypeError, match='seed'): ShardedSampler(Dataset(torch.arange(6), torch.arange(6)), 2, 0, 2, seed='1')


def test_callback_that_never_began_ends_cleanly():
    "A callback failing in begin_fit before DistributedCallback's: the user's error alone, nothing changed."
    from course_lib.callbacks import Callback
    class Fail(Callback):
        _order = -20
        def begin_fit(self): raise RuntimeError('the real error')
    learn, run = dist_train.train(n=8, bs=4, epochs=0)
    sampler, model = learn.data.train_dl.sampler, learn.model
    run.add_cbs(Fail())
    with patch.dict(os.environ, GOOD), pytest.raises(RuntimeError, match='the real error') as info: run.fit(1, learn)
    assert not getattr(info.value, '__notes__', None)
    assert learn.model is model and learn.data.train_dl.sampler is sampler and not torch.distributed.is_initialized()
