"""Backends are chosen by name and imported only when used (llama_cpp is heavy)."""

from __future__ import annotations

import os

from .base import Backend, BackendConfig


def auto_threads() -> int:
    """CPU threads for a local model: the CPUs this process may use, shared among
    pytest-xdist workers. (llama-cpp-python's own default is half the CPUs.)"""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    return max(1, cpus // max(1, workers))


def create_backend(config: BackendConfig) -> Backend:
    """The built-in backends (``Settings.backend_config()`` gives their config). Plugins
    can supply others via pytest_llmjudge_make_backend."""
    if config.backend == "llamacpp":
        from .llamacpp import LlamaCppBackend
        from .models import resolve

        return LlamaCppBackend(
            resolve(config.model),
            n_ctx=config.n_ctx,
            n_gpu_layers=config.n_gpu_layers,
            n_threads=config.n_threads or auto_threads(),
        )
    if config.backend == "litellm":
        from .litellm import LiteLLMBackend

        return LiteLLMBackend(config)
    # Settings validation rejects unknown names first; this guards direct callers.
    raise ValueError(f"unknown backend {config.backend!r}")
