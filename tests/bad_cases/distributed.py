from bad_cases import Bad
import torch
from course_lib.minibatch import Dataset, DataLoader, Sampler
from course_lib.distributed import ShardedSampler, DistributedCallback, init_distributed, _check_shardable

ds = Dataset(torch.arange(10), torch.arange(10))

CASES = [
    Bad('sharded-rank-too-big', lambda: ShardedSampler(ds, 2, 2, 2), ValueError, ('rank', '2')),
    Bad('sharded-rank-negative', lambda: ShardedSampler(ds, 2, -1, 2), ValueError, ('rank', '-1')),
    Bad('sharded-rank-float', lambda: ShardedSampler(ds, 2, 0.5, 2), TypeError, ('rank', '0.5')),
    Bad('sharded-world-zero', lambda: ShardedSampler(ds, 2, 0, 0), ValueError, ('world_size', '0')),
    Bad('sharded-world-str', lambda: ShardedSampler(ds, 2, 0, '2'), TypeError, ('world_size', "'2'")),
    Bad('sharded-seed-float', lambda: ShardedSampler(ds, 2, 0, 2, seed=1.5), TypeError, ('seed', '1.5')),
    Bad('ddp-timeout-zero', lambda: DistributedCallback(timeout=0), ValueError, ('timeout', '0')),
    Bad('ddp-timeout-nan', lambda: DistributedCallback(timeout=float('nan')), ValueError, ('timeout', 'nan')),
    Bad('ddp-timeout-str', lambda: DistributedCallback(timeout='60'), TypeError, ('timeout', "'60'")),
    Bad('ddp-seed-str', lambda: DistributedCallback(seed='0'), TypeError, ('seed', "'0'")),
    Bad('init-timeout-negative', lambda: init_distributed(timeout=-1), ValueError, ('timeout', '-1')),
    Bad('shardable-torch-dl', lambda: _check_shardable(torch.utils.data.DataLoader(ds, batch_size=2), 'train_dl'), TypeError, ('train_dl', 'DataLoader')),
    Bad('shardable-list', lambda: _check_shardable([1, 2], 'valid_dl'), TypeError, ('valid_dl', 'list')),
]
