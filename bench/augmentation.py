"""Lesson 10's augmentation: per image with PIL against per batch with `rotate_batch`, side by side.

Two measurements, each with an A/A row (the base again under a second name: the noise floor):

1. **The transform alone**, on 64 RGB images of 128x128 (crops of matplotlib's sample photos): a random rotation by up
   to 30 degrees with bilinear interpolation, either
   * `PIL rotate, per image` -- `Image.rotate` on each of the 64 PIL images, one after another (the base), or
   * `rotate_batch` -- course_lib's `rotate_batch` on the `(64, 3, 128, 128)` float batch, on `--device`.
2. **Images per second through the pipeline**: `ImageList` over a folder of JPEG photos (written once into a temporary
   folder: crops of the sample photos, 160 to 400 pixels a side), transforms in `_order`, then batches of 64 from
   `torch.utils.data.DataLoader` (one process), for
   * `no augmentation` -- `CenterCrop(128)`, `np_to_float` (the base);
   * `PIL augmentation` -- `RandomResizedCrop(128)`, `PilRandomFlip()`, `np_to_float`;
   * `PIL tilt` -- `PilTiltRandomCrop(128, magnitude=0.1)`, `np_to_float`;
   * `batch rotation` -- the base's batches, each then moved to `--device` and turned with `rotate_batch`.

Method: one torch thread, interleaved repeats (forward then reverse order), medians of the per-repeat ratios to the
base (`train_loop.compare`), process CPU time on the CPU; with `--device cuda` the wall clock, the device synchronised
at the end of every call.

    python bench/augmentation.py            # 15 repeats; the pipeline over 256 files
    python bench/augmentation.py --quick    # 3 repeats over 32 files: a smoke run, not a measurement
"""
import argparse, os, platform, random, sys, tempfile
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import CLOCKS, compare                                                     # noqa: E402

from course_lib.data_block import ImageList, sample_photos                                 # noqa: E402
from course_lib.augmentation import (np_to_float, CenterCrop, RandomResizedCrop, PilRandomFlip,  # noqa: E402
                                     PilTiltRandomCrop, rotate_batch)


def photo_crops(n, size=None, seed=0):
    "`n` random crops of the sample photos, RGB, `size` pixels square or 160 to 400 pixels a side."
    rng, photos = random.Random(seed), sample_photos()
    out = []
    for _ in range(n):
        im = photos[rng.randrange(len(photos))]
        w, h = im.size
        side = rng.uniform(0.4, 1) * min(w, h)
        l, t = rng.uniform(0, w - side), rng.uniform(0, h - side)
        ow, oh = (size, size) if size else (rng.randint(160, 400), rng.randint(160, 400))
        out.append(im.resize((ow, oh), Image.Resampling.BILINEAR, box=(l, t, l + side, t + side)))
    return out


def sync(device):
    "Wait for `device` to finish its work (a no-op on the CPU)."
    if device.type == 'cuda': torch.cuda.synchronize()


def transform_candidates(device, n=64, size=128):
    "Zero-argument callables: rotate `n` images of `size` pixels with PIL one by one, or as one batch on `device`."
    ims = photo_crops(n, size)
    xb = torch.stack([np_to_float(im) for im in ims]).to(device)
    def pil(): return [im.rotate(random.uniform(-30, 30), Image.Resampling.BILINEAR) for im in ims]
    def batch():
        rotate_batch(xb, size, 30)
        sync(device)
    return {'PIL rotate, per image': pil, f'rotate_batch ({device.type})': batch}


def pipeline_candidates(folder, device, bs=64):
    "Zero-argument callables: one pass over the images in `folder` through each pipeline, in batches of `bs`."
    def loader(tfms): return torch.utils.data.DataLoader(ImageList.from_files(folder, tfms=tfms), bs)
    def run(dl, batch_tfm=None):
        def f():
            for xb in dl:
                if batch_tfm: batch_tfm(xb.to(device))
            sync(device)
        return f
    plain = loader([CenterCrop(128), np_to_float])
    return {'no augmentation': run(plain),
            'PIL augmentation': run(loader([RandomResizedCrop(128), PilRandomFlip(), np_to_float])),
            'PIL tilt': run(loader([PilTiltRandomCrop(128, magnitude=0.1), np_to_float])),
            'batch rotation': run(plain, lambda x: rotate_batch(x, 128, 30))}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='3 repeats over 32 files: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 15, or 3 with --quick)')
    p.add_argument('--files', type=int, default=None, help='photos in the folder (default 256, or 32 with --quick)')
    p.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda'")
    p.add_argument('--clock', choices=list(CLOCKS), default=None, help='cpu (default on the CPU) or wall (on CUDA)')
    a = p.parse_args()
    repeats, n_files = a.repeats or (3 if a.quick else 15), a.files or (32 if a.quick else 256)
    device = torch.device(a.device)
    clock = a.clock or ('wall' if device.type == 'cuda' else 'cpu')
    torch.set_num_threads(1)
    random.seed(0); torch.manual_seed(0)
    where = torch.cuda.get_device_name() if device.type == 'cuda' else platform.processor() or platform.machine()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread, {where}, {os.cpu_count()} CPUs, '
          f'python {platform.python_version()}; {repeats} interleaved repeats, {clock} clock')

    compare(transform_candidates(device), repeats=repeats, warmup=1, clock=clock,
            title=f'### A random rotation of 64 images of 128x128, ratios to PIL rotate, per image')

    with tempfile.TemporaryDirectory() as tmp:
        for i, im in enumerate(photo_crops(n_files, seed=1)): im.save(Path(tmp)/f'{i:04d}.jpg', quality=90)
        res = compare(pipeline_candidates(tmp, device), repeats=repeats, warmup=1, clock=clock,
                      title=f'### {n_files} JPEG photos through ImageList -> transforms -> batches of 64, '
                            f'ratios to no augmentation')
    print(f'\n| pipeline | images/s ({clock} time) |\n|---|---:|')
    for name, r in res.items(): print(f"| {name} | {n_files / r['median_s']:,.0f} |")


if __name__ == '__main__':
    main()
