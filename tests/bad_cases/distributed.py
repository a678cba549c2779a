from bad_cases import Bad
import os
from unittest.mock import patch
import torch
from torch import nn
import torch.nn.functional as F
from course_lib.minibatch import Dataset, DataLoader, Sampler
from course_lib.callbacks import DataBunch, Learner, Runner
from course_lib.distributed import ShardedSampler, DistributedCallback, init_distributed, launch_env

ds = Dataset(torch.arange(10), torch.arange(10))
GOOD = dict(RANK='0', WORLD_SIZE='2', MASTER_ADDR='localhost', MASTER_PORT='29500')
_NAMES = (*GOOD, 'LOCAL_RANK', 'SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_STEP_NUM_TASKS')

def _launched(f, drop=(), **env):
    "Call `f()` under the launch variables GOOD, changed by `env`, without `drop`; the environment is put back after."
    with patch.dict(os.environ, {**GOOD, **env}):
        for k in drop: os.environ.pop(k, None)
        return f()

def _fit_under_launch(train_dl):
    "A DistributedCallback fit under a 2-rank launch whose loaders cannot be sharded: refused before any rendezvous."
    model = nn.Linear(4, 2)
    data = DataBunch(train_dl, train_dl, c=2)
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data)
    return _launched(lambda: Runner(cbs=[DistributedCallback()]).fit(1, learn))

_tds = Dataset(torch.randn(8, 4), torch.zeros(8, dtype=torch.long))

CASES = [
    Bad('sharded-rank-too-big', lambda: ShardedSampler(ds, 2, 2, 2), ValueError, ('rank', '2')),
    Bad('sharded-rank-negative', lambda: ShardedSampler(ds, 2, -1, 2), ValueError, ('rank', '-1')),
    Bad('sharded-rank-float', lambda: ShardedSampler(ds, 2, 0.5, 2), TypeError, ('rank', '0.5')),
    Bad('sharded-seed-float', lambda: ShardedSampler(ds, 2, 0, 2, seed=1.5), TypeError, ('seed', '1.5')),
    Bad('sharded-epoch-float', lambda: ShardedSampler(ds, 2, 0, 2).set_epoch(1.5), TypeError, ('epoch', '1.5')),
    Bad('sharded-epoch-negative', lambda: ShardedSampler(ds, 2, 0, 2).set_epoch(-1), ValueError, ('epoch', '-1')),
    Bad('launch-rank-not-below-world', lambda: _launched(init_distributed, RANK='2'), ValueError, ('$RANK', "'2'", '1')),
    Bad('launch-rank-not-int', lambda: _launched(init_distributed, RANK='zero'), ValueError, ('$RANK', "'zero'")),
    Bad('launch-world-not-int', lambda: _launched(init_distributed, WORLD_SIZE='2.0'), ValueError, ('$WORLD_SIZE', "'2.0'")),
    Bad('launch-world-zero', lambda: _launched(init_distributed, WORLD_SIZE='0'), ValueError, ('$WORLD_SIZE', "'0'")),
    Bad('launch-no-master-port', lambda: _launched(init_distributed, drop=['MASTER_PORT']), ValueError, ('$MASTER_PORT', 'None')),
    Bad('launch-master-port-not-a-port', lambda: _launched(init_distributed, MASTER_PORT='99999'), ValueError,
        ('$MASTER_PORT', "'99999'")),
    Bad('launch-no-master-addr', lambda: _launched(init_distributed, drop=['MASTER_ADDR']), ValueError, ('$MASTER_ADDR',)),
    Bad('launch-local-rank-too-big', lambda: _launched(init_distributed, LOCAL_RANK='5'), ValueError, ('$LOCAL_RANK', "'5'")),
    Bad('launch-unknown-backend', lambda: _launched(lambda: init_distributed('glue')), ValueError, ('backend', "'glue'")),
    Bad('launch-unknown-backend-callback', lambda: _launched(lambda: launch_env('mpx')), ValueError, ('backend', "'mpx'")),
    Bad('launch-slurm-without-torch-variables', lambda: _launched(init_distributed, drop=list(GOOD), SLURM_PROCID='0',
        SLURM_NTASKS='4'), ValueError, ('SLURM', '4 tasks', 'RANK', 'torchrun')),
    Bad('shardable-torch-dl', lambda: _fit_under_launch(torch.utils.data.DataLoader(_tds, batch_size=2)), TypeError,
        ('data.train_dl', 'DataLoader', 'Sampler')),
]
if not torch.cuda.is_available():
    CASES.append(Bad('launch-nccl-without-cuda', lambda: _launched(lambda: init_distributed('nccl')), ValueError,
                     ('backend', "'nccl'", 'CUDA')))
