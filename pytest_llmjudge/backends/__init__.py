"""Backends are chosen by name and imported only when used (llama_cpp is heavy)."""

from __future__ import annotations

from ..settings import Settings
from .base import Backend


def create_backend(settings: Settings) -> Backend:
    """The built-in backends. Plugins can supply others via pytest_llmjudge_make_backend."""
    if settings.backend == "llamacpp":
        from ..models import resolve
        from .llamacpp import LlamaCppBackend

        return LlamaCppBackend(
            resolve(settings.model),
            n_ctx=settings.n_ctx,
            n_gpu_layers=settings.n_gpu_layers,
            n_threads=settings.n_threads,
        )
    # Settings validation rejects unknown names first; this guards direct callers.
    raise ValueError(f"unknown backend {settings.backend!r}")
