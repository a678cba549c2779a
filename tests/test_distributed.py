"DistributedCallback: 2 gloo processes under torchrun train exactly like one process with twice the batch size."
import os, subprocess, sys, time
from pathlib import Path
import pytest, torch
from torch import nn
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
    log = load(tmp_path/'un.pt')['log']
    assert 0 <= log['valid_accuracy'] <= 1

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

def test_torch_dataloader_is_refused():
    "A PyTorch DataLoader cannot have its sampler swapped after creation: a clear error says what to build instead."
    ds = Dataset(torch.randn(8, 12), torch.zeros(8, dtype=torch.long))
    with pytest.raises(TypeError, match='data.train_dl must be a course_lib DataLoader'):
        from course_lib.distributed import _check_shardable
        _check_shardable(torch.utils.data.DataLoader(ds, batch_size=4), 'train_dl')
