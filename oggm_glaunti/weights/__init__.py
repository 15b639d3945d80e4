"""Weights: the published ``.eqx`` files, our own versioned format, the pretrained registry."""

from .errors import WeightsError
from .native import FORMAT_NAME, FORMAT_VERSION, load_model, save_model
from .published import model_from_records, read_published, read_records
from .registry import WEIGHTS_DIR_ENV, load_pretrained, pretrained_path

__all__ = [
    "WeightsError", "FORMAT_NAME", "FORMAT_VERSION", "load_model", "save_model",
    "model_from_records", "read_published", "read_records", "WEIGHTS_DIR_ENV",
    "load_pretrained", "pretrained_path",
]
