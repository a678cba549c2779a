from torch import nn
from bad_cases import Bad
from course_lib.awd_lstm import (RNNDropout, WeightDropout, EmbeddingDropout, AWD_LSTM, get_language_model)

CASES = [
    Bad('rnn-dropout-p-one', lambda: RNNDropout(1.), ValueError, ('p must', '1.0')),          # 2019: NaN when training
    Bad('rnn-dropout-p-negative', lambda: RNNDropout(-0.1), ValueError, ('p must', '-0.1')),
    Bad('weight-dropout-p-one', lambda: WeightDropout(nn.LSTM(2, 2), 1.), ValueError, 'weight_p'),
    Bad('embedding-dropout-p-above-one', lambda: EmbeddingDropout(nn.Embedding(5, 2), 1.5), ValueError, 'embed_p'),
    Bad('awd-lstm-no-layers', lambda: AWD_LSTM(10, 4, 4, 0, 1), ValueError, 'n_layers'),
    Bad('awd-lstm-input-p-one', lambda: AWD_LSTM(10, 4, 4, 2, 1, input_p=1.), ValueError, 'input_p'),
    Bad('awd-lstm-hidden-p-one', lambda: AWD_LSTM(10, 4, 4, 2, 1, hidden_p=1.), ValueError, 'hidden_p'),
    Bad('language-model-output-p-one', lambda: get_language_model(10, 4, 4, 2, 1, output_p=1.), ValueError,
        'output_p'),
]
