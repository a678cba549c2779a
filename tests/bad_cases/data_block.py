from types import SimpleNamespace
from bad_cases import Bad
from course_lib.callbacks import DataBunch
from course_lib.data_block import (CategoryProcessor, ItemList, LabeledData, SplitData, get_cnn_model,
                                   grandparent_splitter)
from pathlib import Path

def _vocab_ab():
    p = CategoryProcessor(); p(['a', 'b'])
    return p

_files = ItemList([Path('data/train/3/0.png'), Path('data/val/3/1.png')])

CASES = [
    Bad('db-split-matches-no-valid-file', lambda: SplitData.split_by_func(_files, grandparent_splitter),
        ValueError, ('split_by_func', '1 training and 0 validation', 'valid_name')),
    Bad('db-label-unknown-to-the-vocab', lambda: _vocab_ab()(['a', 'zebra']), ValueError,
        ('CategoryProcessor', "'zebra'")),
    Bad('db-labeled-lengths-differ', lambda: LabeledData(ItemList([1, 2, 3]), ItemList([0, 1])), ValueError,
        ('x', 'y')),
    Bad('db-databunch-c-and-c-out-differ', lambda: DataBunch(None, None, 10, c_out=5), ValueError, ('c=10', 'c_out=5')),
    Bad('db-databunch-c-in-c-out-positional', lambda: DataBunch(None, None, 3, 10), TypeError, ('positional',)),
    Bad('db-cnn-without-c-in', lambda: get_cnn_model(SimpleNamespace(c=10, c_out=10), [8]), ValueError,
        ('c_in', 'to_databunch')),
]
