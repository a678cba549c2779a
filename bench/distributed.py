"""Training throughput of 1 and 2 processes (gloo, CPU) at batch sizes 64 and 512 per rank, side by side in one run.

Each measurement launches `tests/dist_train.py`-style training of a 784-50-10 MLP on synthetic MNIST-shaped data
(50,000 x 784 float32, no file to read) and reports training samples per second of the fastest epoch, timed inside
the processes (start-up and process-group set-up excluded). One thread per process (`OMP_NUM_THREADS=1`, as torchrun
sets). Repeats are interleaved (1p, 2p, 1p', then reversed) and the ratio 2p / 1p is the median over repeats; `1p'` is
the single process again under a second name (the A/A control): its ratio to 1p is the noise floor.

    python bench/distributed.py           # 5 repeats, 3 epochs each
    python bench/distributed.py --quick   # a smoke run: bs 64 only, 1 repeat, 1 epoch of 4,096 samples
"""
import argparse, os, re, statistics, subprocess, sys, tempfile, textwrap
from pathlib import Path

SCRIPT = textwrap.dedent('''
    import sys, time, torch, torch.nn.functional as F
    from course_lib.minibatch import Dataset, get_dls, mlp
    from course_lib.callbacks import DataBunch, Learner, Runner, Callback
    from course_lib.distributed import DistributedCallback, is_rank0
    class EpochTimer(Callback):
        def begin_fit(self): self.times = []
        def begin_epoch(self): self.t0 = time.perf_counter()
        def begin_validate(self): self.times.append(time.perf_counter() - self.t0)
    n, bs, epochs = map(int, sys.argv[1:4])
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, 784, generator=g), torch.randint(0, 10, (n,), generator=g)
    data = DataBunch(*get_dls(Dataset(x, y), Dataset(x[:n // 5], y[:n // 5]), bs), c=10)
    model = mlp(784, 50, 10)
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), F.cross_entropy, data)
    run = Runner(cbs=[DistributedCallback(), EpochTimer()])
    run.fit(epochs, learn)
    if is_rank0(): print(f"RATE {n / min(run.epoch_timer.times):.1f}")
''')

def rate(script, n, bs, epochs, nproc):
    "Training samples per second of the fastest epoch, with `nproc` processes."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'LOCAL_RANK'): env.pop(k, None)
    pre = [sys.executable] if nproc == 1 else [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(nproc)]
    res = subprocess.run(pre + [script, str(n), str(bs), str(epochs)], capture_output=True, text=True, env=env, timeout=600)
    m = re.search(r'RATE ([\d.]+)', res.stdout)
    if res.returncode or not m: raise RuntimeError(f"run failed ({res.returncode}):\n{res.stderr[-2000:]}")
    return float(m.group(1))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true'); ap.add_argument('--repeats', type=int, default=5)
    a = ap.parse_args()
    n, epochs, repeats = (4096, 1, 1) if a.quick else (50_000, 3, a.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        script = str(Path(tmp) / 'train.py'); Path(script).write_text(SCRIPT)
        print(f"{'bs/rank':>8} {'1 proc (samples/s)':>19} {'2 procs':>10} {'2p / 1p':>8} {'A/A 1p/1p':>10}")
        for bs in ((64,) if a.quick else (64, 512)):
            r = {'1p': [], '2p': [], "1p'": []}
            for i in range(repeats):
                order = ['1p', '2p', "1p'"] if i % 2 == 0 else ["1p'", '2p', '1p']
                for k in order: r[k].append(rate(script, n, bs, epochs, 2 if k == '2p' else 1))
            ratio = statistics.median(b / a for a, b in zip(r['1p'], r['2p']))
            aa = statistics.median(b / a for a, b in zip(r['1p'], r["1p'"]))
            print(f"{bs:>8} {statistics.median(r['1p']):>19,.0f} {statistics.median(r['2p']):>10,.0f} {ratio:>8.2f} {aa:>10.2f}")

if __name__ == '__main__': main()
