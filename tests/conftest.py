"Shared pytest set-up: hypothesis profiles and a quiet, deterministic torch."
import os
import torch
from hypothesis import settings, HealthCheck

settings.register_profile('ci', max_examples=50, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile('dev', max_examples=25, deadline=None)
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))
torch.set_num_threads(1)
