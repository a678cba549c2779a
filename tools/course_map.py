#!/usr/bin/env python3
"""Which video lesson and 2019 notebook each of our notebooks follows (the map a student watching the videos needs).

    python3 tools/course_map.py          # prints the map: video lesson -> 2019 notebooks -> our notebooks

Used by tools/site_extras.py (the line under each page's title) and by nbs/index.ipynb (the home page's table).
The 2019 course (fast.ai's *Deep Learning from the Foundations*, course-v3 `nbs/dl2`) numbers its notebooks; our
lessons share those numbers, so a lesson `09b_learner` follows the course's `09b_*` notebook with no entry here.
`FOLLOWS` lists only the exceptions: a notebook of ours that covers several of the course's. A number the course
never uses (00a, 05c, 07b...) marks our own addition. Standard library only.
"""
import json, re, sys
from pathlib import Path

# video lesson -> the 2019 notebooks it teaches (course-v3 nbs/dl2; lessons 8-12 use PyTorch, 13-14 Swift)
VIDEOS = {
    8: ['00_exports', '01_matmul', '02_fully_connected'],
    9: ['02a_why_sqrt5', '02b_initializing', '03_minibatch_training', '04_callbacks', '05_anneal'],
    10: ['05a_foundations', '05b_early_stopping', '06_cuda_cnn_hooks_init', '07_batchnorm'],
    11: ['07a_lsuv', '08_data_block', '09_optimizers', '09b_learner', '09c_add_progress_bar', '10_augmentation'],
    12: ['10b_mixup_label_smoothing', '10c_fp16', '11_train_imagenette', '11a_transfer_learning', '12_text',
         '12a_awd_lstm', '12b_lm_pretrain', '12c_ulmfit'],
}
# our notebook -> the 2019 notebooks it follows, where that is not simply the one with its number
FOLLOWS = {'02_initializing': ['02_fully_connected', '02a_why_sqrt5', '02b_initializing']}
# 2019 notebooks with no lesson of their own here, and why
NO_LESSON = {'00_exports': 'nbdev does its job: notebooks export their cells to the package'}
COURSE_NB_URL = 'https://github.com/fastai/course-v3/blob/master/nbs/dl2/{}.ipynb'
VIDEO_URL = 'https://course19.fast.ai/videos/?lesson={}'
COURSE = [nb for nbs in VIDEOS.values() for nb in nbs]
LESSON_OF = {nb: v for v, nbs in VIDEOS.items() for nb in nbs}


def number(stem):
    "The notebook number of `stem`: '09b' for '09b_learner'."
    return stem.split('_')[0]


def follows(stem):
    "The 2019 notebooks our notebook `stem` follows ([] for our own addition, or for a page that is no lesson)."
    if stem in FOLLOWS: return FOLLOWS[stem]
    if not re.fullmatch(r'\d\d[a-z]?', number(stem)): return []
    return [nb for nb in COURSE if number(nb) == number(stem)]


def videos(stem):
    "The video lessons our notebook `stem` follows, in order."
    return sorted({LESSON_OF[nb] for nb in follows(stem)})


# pages that serve the whole course rather than one of its notebooks
SERVES_ALL = {'99a_exp': 'Serves every 2019 notebook of video lessons 8–12 whose lesson exists here: '
                         'one changed import line each.'}


def note(stem):
    "One line for under a page's title: which video lesson and 2019 notebook(s) the page follows, as HTML."
    if stem in SERVES_ALL: return SERVES_ALL[stem]
    nbs = follows(stem)
    if not nbs:
        return ('Our own addition: the 2019 course has no notebook for this lesson.'
                if re.fullmatch(r'\d\d[a-z]?', number(stem)) and not number(stem).startswith('9') else '')
    vs = videos(stem)
    vtxt = ' and '.join(f'<a href="{VIDEO_URL.format(v)}">video lesson {v}</a>' for v in vs)
    ntxt = ', '.join(f'<a href="{COURSE_NB_URL.format(nb)}"><code>{nb}</code></a>' for nb in nbs)
    return f'Follows {vtxt} · 2019 notebook{"s" if len(nbs) > 1 else ""} {ntxt}'


def rows(stems):
    "(video lesson, 2019 notebook, [our notebooks that follow it]) for every 2019 notebook, in course order."
    return [(LESSON_OF[nb], nb, [s for s in stems if nb in follows(s)]) for nb in COURSE]


def main():
    stems = [p.stem for p in sorted((Path(__file__).resolve().parent.parent / 'nbs').glob('[0-9]*.ipynb'))]
    for v, nb, ours in rows(stems):
        print(f'lesson {v:2d}  {nb:28s} {", ".join(ours) or NO_LESSON.get(nb, "not covered yet")}')
    own = [s for s in stems if not follows(s) and note(s)]
    print('our own additions:', ', '.join(own))
    if '--json' in sys.argv: print(json.dumps({s: follows(s) for s in stems}))


if __name__ == '__main__':
    main()
