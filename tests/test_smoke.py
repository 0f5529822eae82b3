import numpy as np
import torch

import minigrad
from helpers import check_op


def test_mlp_forward_backward_matches_torch(backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    check_op(lambda a, b: minigrad.log_softmax((a @ b).relu(), dim=1),
             lambda a, b: torch.log_softmax((a @ b).relu(), dim=1), [x, w], backend)
