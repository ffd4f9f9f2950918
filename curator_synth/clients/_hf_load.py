"""Loading a Hugging Face causal LM and its tokenizer from a local directory, for the in-process client
(:mod:`curator_synth.clients.transformers`): never from the network (``local_files_only=True``); a missing
directory, config or weights is a :class:`~curator_synth.errors.ConfigError` naming the path and the files
expected. torch and transformers are imported on first use (the ``transformers`` extra).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from curator_synth.errors import ConfigError, MissingDependencyError

__all__ = ["WEIGHT_FILES", "expand", "load_model", "load_pretrained", "load_tokenizer", "require_transformers"]

#: A model directory must hold one of these (safetensors or PyTorch weights, whole or sharded with an index).
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)

_loaded: dict[tuple[str, str, str, str], tuple[Any, Any]] = {}
_loading = threading.Lock()


def require_transformers() -> Any:
    try:
        import torch  # noqa: F401  (transformers imports it lazily; fail here, with the extra's name)
        import transformers
    except ImportError as error:
        raise MissingDependencyError("transformers", "transformers", "the in-process model client") from error
    return transformers


def _check_directory(path: Path, what: str) -> None:
    if not path.is_dir():
        raise ConfigError(
            f"{what} {str(path)!r} is not a local directory; the transformers client never downloads: fetch the "
            "model first (e.g. `huggingface-cli download <repo> --local-dir <dir>`) and pass that directory"
        )


def _check_model_directory(path: Path) -> None:
    _check_directory(path, "model path")
    if not (path / "config.json").is_file():
        raise ConfigError(f"{path} is not a Hugging Face model directory: it has no config.json")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        found = ", ".join(sorted(p.name for p in path.iterdir())[:12]) or "nothing"
        raise ConfigError(
            f"no model weights in {path}: expected one of {', '.join(WEIGHT_FILES)} (found: {found}); "
            "git-lfs pointers or an interrupted download leave a directory like this"
        )


def _dtype(transformers: Any, dtype: Any) -> dict[str, Any]:
    if dtype is None:
        return {}
    if isinstance(dtype, str) and dtype != "auto":
        import torch

        value = getattr(torch, dtype, None)
        if not isinstance(value, torch.dtype):
            raise ConfigError(f"dtype must be a torch dtype name such as 'float32' or 'bfloat16', got {dtype!r}")
        dtype = value
    major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def load_pretrained(
    path: str | os.PathLike[str],
    *,
    tokenizer_path: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    dtype: Any = None,
    cached: bool = False,
) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from a local directory (the tokenizer from ``tokenizer_path``, default the same).

    Never downloads (``local_files_only=True``). ``dtype``: a torch dtype or its name (default: the checkpoint's
    as transformers decides). ``cached=True`` shares one loaded pair per process, keyed by the resolved paths,
    device and dtype (how Dask workers load a model once however many partitions they run).
    """
    model_dir = expand(path)
    tokenizer_dir = expand(tokenizer_path) if tokenizer_path is not None else model_dir
    key = (str(model_dir.resolve()), str(tokenizer_dir.resolve()), str(device), str(dtype))
    with _loading:
        if cached and key in _loaded:
            return _loaded[key]
        model = load_model(model_dir, device, dtype)
        pair = (model, load_tokenizer(tokenizer_dir))
        if cached:
            _loaded[key] = pair
        return pair


def expand(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.expanduser(os.fspath(path)))


def load_model(directory: Path, device: str, dtype: Any) -> Any:
    transformers = require_transformers()
    _check_model_directory(directory)
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(
            directory, local_files_only=True, **_dtype(transformers, dtype)
        )
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot load a causal LM from {directory}: {error}") from error
    return model.to(device).eval()


def load_tokenizer(path: str | os.PathLike[str]) -> Any:
    transformers = require_transformers()
    directory = expand(path)
    _check_directory(directory, "tokenizer path")
    try:
        return transformers.AutoTokenizer.from_pretrained(directory, local_files_only=True)
    except (OSError, ValueError, TypeError) as error:
        raise ConfigError(
            f"cannot load a tokenizer from {directory} (expected tokenizer.json, or tokenizer_config.json with "
            f"its vocabulary files): {error}"
        ) from error
