"""Checks a run makes before its first request (``SyntheticDataPipeline.validate``; ``inspect`` runs them too):
what the recipe's sections need beyond their pydantic models. Each raises :class:`ConfigError` naming the key.
The stages' own checks are their :meth:`~curator_synth.pipeline.stages.Stage.check` methods.

:func:`check_endpoint` is the one that talks to the endpoint: the pre-flight before the first LLM stage runs."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from curator_synth.errors import ConfigError, CuratorSynthError
from curator_synth.pipeline.config import PipelineConfig
from curator_synth.pipeline.context import RunContext

__all__ = ["check_client", "check_endpoint", "check_exports", "check_output_dir", "check_seeds"]

logger = logging.getLogger(__name__)


def check_output_dir(out: Path, *, create: bool) -> None:
    """``out`` is, or can become, a directory this process can write. ``create``: make it and write (then
    remove) a probe file, which also finds read-only file systems; otherwise only look."""
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            where = "it" if path == out else f"its parent {path}"
            raise ConfigError(f"output_dir {out}: {where} is a file, not a directory")
    if not create:
        existing = next(path for path in (out, *out.parents) if path.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigError(f"output_dir {out}: {existing} is not writable")
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".probe-"):
            pass
    except OSError as error:
        raise ConfigError(f"output_dir {out} cannot be written: {error.strerror or error}") from error


def check_seeds(config: PipelineConfig) -> None:
    if config.seeds:
        path = config.resolve(config.seeds)
        if not path.is_file():
            raise ConfigError(f"{config.locate(('seeds',))}seeds: file not found: {path}")


def check_client(config: PipelineConfig, *, given: bool) -> None:
    """Stages that call a model need a model name and a client (a ``client:`` section, or a client object
    given in code), and the API key variable the section names must be set."""
    if not config.model and not given:
        raise ConfigError(f"{config.locate(())}this recipe has stages that call a model: set `model:` in the recipe")
    if given:
        return
    if config.client is None:
        raise ConfigError("this recipe has stages that call a model: give a `client:` section (base_url, ...)")
    name = config.client.api_key_env
    if name and not os.environ.get(name):  # never echo the value: people paste the key itself here
        raise ConfigError(
            f"{config.locate(('client', 'api_key_env'))}client.api_key_env: the environment variable {name} is not"
            " set (export it, or leave api_key_env out for an endpoint without a key)"
        )


def check_exports(config: PipelineConfig) -> None:
    from curator_synth.exports import EXPORT_FORMATS

    for number, item in enumerate(config.exports):
        try:
            EXPORT_FORMATS.get(item.format)
        except ConfigError as error:
            where = config.locate(("exports", number, "format"))
            raise ConfigError(f"{where}exports[{number}].format: {error}") from None


def check_endpoint(ctx: RunContext, config: PipelineConfig) -> None:
    """The pre-flight of the recipe's endpoint (``client.check``, on by default), once per run before its first
    LLM stage runs: the model listing, a warning when the model is not listed, the context length (kept in the
    client spec unless the recipe sets one); all kept in ``capabilities.json`` in the run directory. A wrong URL
    or a stopped server fails here in seconds (transient: exit 75), a refused key too (exit 1). Only for
    OpenAI-compatible client kinds given by the recipe, not for a client object given in code."""
    from curator_synth.clients.capabilities import examine
    from curator_synth.pipeline.failures import explained

    spec, section = ctx.client_spec, config.client
    if ctx.checked or ctx.client is not None or spec is None or section is None or not section.check:
        return
    ctx.checked = True
    try:
        found = examine(spec, ctx.model)
    except CuratorSynthError as error:  # the same type (exit code, transient or not), the message says where
        raise explained(error, "the endpoint check before the first LLM stage", spec.key_env_vars) from None
    if found is None:
        return
    for warning in found.warnings:
        logger.warning("%s", warning)
    found.save(ctx.output_dir)
    if found.context_length and spec.context_length is None:
        ctx.client_spec = spec.model_copy(update={"context_length": found.context_length})
