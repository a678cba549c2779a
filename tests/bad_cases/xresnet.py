from bad_cases import Bad
from torch import nn
from course_lib.callbacks import DataBunch
from course_lib.optimizers import sgd_opt
from course_lib.xresnet import XResNet, cnn_learner, xresnet18

CASES = [
    # no c_out anywhere: the model would get 1,000 outputs, and cross-entropy trains it without a word
    Bad('cnn-learner-no-c-out', lambda: cnn_learner(xresnet18, DataBunch(None, None, c_in=1), nn.CrossEntropyLoss(),
                                                    sgd_opt), ValueError, 'c_out'),
    # fewer widths than stages: the stages would be cut short (or index past the list) far from the call
    Bad('xresnet-widths-short', lambda: XResNet.create(1, [1, 1, 1], widths=(8, 16)), ValueError, ('widths', '2')),
]
