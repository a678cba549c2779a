"Tests of course_lib.progress: the timed table of AvgStatsCallback, and ProgressCallback's bars, on the Learner."
import sys, time
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_lib.progress as progress
from course_lib.progress import AvgStatsCallback, ProgressCallback
from course_lib.callbacks import Callback, CancelTrainException, DataBunch, Runner, Learner as Learner04
from course_lib.callbacks import AvgStatsCallback as AvgStatsCallback04
from course_lib.minibatch import Dataset, accuracy, get_dls
from course_lib.early_stopping import EarlyStoppingCallback
from course_lib.learner import Learner


def tiny_data(n=96, nv=32, bs=16):
    g = torch.Generator().manual_seed(0)
    x, xv = torch.randn(n, 6, generator=g), torch.randn(nv, 6, generator=g)
    w = torch.randn(6, 3, generator=g)
    return DataBunch(*get_dls(Dataset(x, (x @ w).argmax(1)), Dataset(xv, (xv @ w).argmax(1)), bs,
                              generator=torch.Generator().manual_seed(0)), c=3)

def learner(*cb_funcs, stats=AvgStatsCallback, lines=None):
    "A linear model's Learner with `stats(accuracy)` and `cb_funcs`; its rows go to `lines` if given."
    torch.manual_seed(0)
    learn = Learner(nn.Linear(6, 3), tiny_data(), F.cross_entropy, lr=0.3,
                    cb_funcs=([partial(stats, accuracy)] if stats else []) + list(cb_funcs))
    if lines is not None: learn.logger = lines.append
    return learn

class Note(Callback):
    _order = 2
    def after_epoch(self):
        if self.epoch == 1: self.run.logger('note from another callback')


# ---------------------------------------------------------------- the table of AvgStatsCallback
def test_rows_hold_the_log_and_the_time():
    rows = []
    learn = learner(lines=rows)
    learn.fit(2)
    st = learn.avg_stats
    assert isinstance(st, AvgStatsCallback04) and st.header == st.names + ['time'] and 'time' not in st.log
    assert len(rows) == 3 and rows[0].split() == st.header
    last = rows[-1].split()
    assert last[0] == '1' and [float(v) for v in last[1:-1]] == pytest.approx([st.log[k] for k in st.names[1:]], abs=1e-4)
    assert last[-1] == f'{st.time:.1f}s' and st.row()[-1] == last[-1]
    assert rows[2].index(last[1]) == rows[0].index('train_loss')                  # the columns line up


def test_the_same_numbers_as_lesson_04s():
    a, b = learner(lines=[]), learner(stats=AvgStatsCallback04, lines=[])
    a.fit(2); b.fit(2)
    assert a.avg_stats.log == b.avg_stats.log


def test_time_is_the_epochs():
    class Slow(Callback):
        def begin_validate(self): time.sleep(0.05)
    learn = learner(Slow, lines=[])
    learn.fit(1)
    assert 0.05 <= learn.avg_stats.time < 5


def test_a_header_before_the_first_row_of_each_fit_and_when_resuming():
    rows = []
    learn = learner(lines=rows)
    learn.fit(1); learn.fit(4, start_epoch=2)
    assert [r.split()[0] for r in rows] == ['epoch', '0', 'epoch', '2', '3']


def test_show_false_writes_nothing_but_keeps_the_log():
    rows = []
    learn = learner(lines=rows)
    learn.avg_stats.show = False
    learn.fit(2)
    assert rows == [] and learn.avg_stats.log['epoch'] == 1


def test_time_format():
    assert progress._fmt_secs(2.345) == '2.3s' and progress._fmt_secs(75) == '01:15'
    assert progress._fmt(3) == '3' and progress._fmt(0.123456) == '0.1235'


def test_trackers_and_the_runner_take_it():
    rows = []
    torch.manual_seed(0)
    model = nn.Linear(6, 3)
    run = Runner(cb_funcs=[partial(AvgStatsCallback, []), partial(EarlyStoppingCallback, patience=1, min_delta=10.)])
    run.logger = rows.append
    run.fit(5, Learner04(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, tiny_data()))
    assert [r.split()[0] for r in rows] == ['epoch', '0', '1', 'early']


# ---------------------------------------------------------------- ProgressCallback
def test_non_tty_output_is_one_line_per_epoch(capsys):
    assert not sys.stdout.isatty()
    learn = learner(ProgressCallback, Note)
    learn.fit(6)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 6 + 1                               # header, a row per epoch, the other callback's note
    assert lines[0].split() == learn.avg_stats.header and [l.split()[0] for l in lines[1:3]] == ['0', '1']
    assert lines[3] == 'note from another callback' and learn.logger is print


def test_bars_false_is_the_plain_table(capsys):
    learner(partial(ProgressCallback, bars=False)).fit(2)
    plain = capsys.readouterr().out
    learner().fit(2)
    assert [l.split()[:-1] for l in plain.splitlines()] == [l.split()[:-1] for l in capsys.readouterr().out.splitlines()]


def test_console_bars_never_print_a_line_per_batch(capsys):
    "Bars forced on outside a notebook: fastprogress's console bars redraw one line with carriage returns."
    learn = learner(partial(ProgressCallback, bars=True))
    learn.fit(3)
    out = capsys.readouterr().out
    assert out.count('\n') < 10 and 'train_loss' in out and '\r' in out
    assert learn.logger is print and learn.avg_stats.show is True


def test_live_bars_switch(monkeypatch):
    monkeypatch.setattr(sys.stdout, 'isatty', lambda: True, raising=False)
    monkeypatch.delenv('COURSE_LIB_NO_BARS', raising=False)
    assert progress._live_bars(None) is True
    monkeypatch.setenv('COURSE_LIB_NO_BARS', '1')
    assert progress._live_bars(None) is False
    assert progress._live_bars(True) is True and progress._live_bars(False) is False


@pytest.mark.parametrize('shown', [True, False])
def test_statistics_rows_off_while_the_bars_show_the_table_and_back_after_an_error(shown, capsys):
    class Boom(Callback):
        def after_batch(self):
            if self.n_iter == 8: raise RuntimeError('boom')
    learn = learner(partial(ProgressCallback, bars=True), Boom)
    learn.avg_stats.show = shown
    seen = []
    learn.progress.begin_validate = lambda: seen.append(learn.avg_stats.show)
    with pytest.raises(RuntimeError, match='boom'): learn.fit(3)
    assert seen == [False] and learn.avg_stats.show is shown and learn.progress._stats is None


def test_with_lesson_04s_statistics_bars_and_their_lines(capsys):
    learner(partial(ProgressCallback, bars=True), stats=AvgStatsCallback04).fit(2)
    out = capsys.readouterr().out
    assert out.count('epoch 0  train:') == 1 and 'train_loss' not in out


def test_without_statistics_no_rows(capsys):
    learner(partial(ProgressCallback, bars=False), stats=None).fit(2)
    assert capsys.readouterr().out == ''


def test_master_bar_ends_at_the_epochs_done():
    rows = []
    learn = learner(partial(ProgressCallback, bars=True), partial(EarlyStoppingCallback, patience=1, min_delta=10.), lines=rows)
    learn.fit(6)
    assert learn.progress.n_done == 2 and rows[-1].startswith('early stopping after epoch 1')
    learn.remove_cbs(learn.early_stopping)
    learn.fit(5, start_epoch=3)
    assert learn.progress.n_done == 5 and learn.progress.mbar is None


class FailAtBeginFit(Callback):
    _order = -20
    def begin_fit(self): raise RuntimeError('the real error')

@pytest.mark.parametrize('bars', [False, True])
def test_after_fit_of_a_progress_that_never_began_runs_cleanly(bars):
    learn = learner(partial(ProgressCallback, bars=bars), lines=[])
    learn.add_cbs(FailAtBeginFit())
    for _ in range(2):
        with pytest.raises(RuntimeError, match='the real error') as info: learn.fit(1)
        assert not getattr(info.value, '__notes__', None), info.value.__notes__
    learn.remove_cbs(learn.fail_at_begin_fit)
    learn.fit(1)
    assert learn.avg_stats.show is True
