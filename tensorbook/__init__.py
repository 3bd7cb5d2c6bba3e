"""tensorbook: the package behind the tensorbook workbook.

The public names live here; submodules are implementation detail, except the
chapter helpers ``tensorbook.datasets``, ``tensorbook.plotting`` and
``tensorbook.widgets``, which are imported on first use so that
``import tensorbook`` stays light.
"""

import importlib

from .tenalg import (
    fold,
    inner,
    khatri_rao,
    kronecker,
    mode_dot,
    mttkrp,
    multi_mode_dot,
    norm,
    outer,
    tensor_ivv,
    tensor_vvv,
    unfold,
)
from .contraction import contract, contraction_cost
from .decomposition import (
    CPTensor,
    TTTensor,
    TuckerTensor,
    cp_als,
    cp_to_tensor,
    jennrich,
    random_cp,
    random_tt,
    random_tucker,
    symmetric_power_method,
    tt_svd,
    tt_to_tensor,
    tucker,
    tucker_to_tensor,
)
from .exercises import Exercise, Feedback, check, exercise
from .nn import tensor_sketch

__version__ = "0.1.0"

__all__ = [
    "unfold", "fold", "mode_dot", "multi_mode_dot", "kronecker", "khatri_rao", "mttkrp",
    "outer", "inner", "norm", "tensor_ivv", "tensor_vvv", "contract", "contraction_cost",
    "CPTensor", "TuckerTensor", "TTTensor", "cp_to_tensor", "tucker_to_tensor", "tt_to_tensor",
    "cp_als", "tucker", "tt_svd", "symmetric_power_method", "jennrich", "random_cp", "random_tucker", "random_tt",
    "tensor_sketch", "check", "exercise", "Exercise", "Feedback", "__version__",
]

_LAZY_SUBMODULES = ("datasets", "plotting", "widgets", "moments", "topics", "forecast", "nn")
# Public names whose modules import heavier libraries (scikit-learn): loaded on first use.
_LAZY_NAMES = {
    "SpectralLDA": "topics",
    "make_lda_corpus": "topics",
    "topic_recovery_error": "topics",
    "topic_coherence": "topics",
    "Forecaster": "forecast",
}


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'tensorbook' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY_SUBMODULES, *_LAZY_NAMES])
