"""The judge configuration in effect for one session: a frozen, pytest-free value.

Every default comes from the option table (options.py), so the two cannot disagree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..backends.base import BackendConfig
from ..judging.policy import Policy
from .options import OPTIONS

_OPTION = {option.name: option for option in OPTIONS}


def _default(name: str) -> Any:
    """The option's default, parsed as a value given on the command line would be."""
    option = _OPTION[name]
    return dataclasses.field(default=option.parse(option.default))


@dataclass(frozen=True)
class Settings:
    """The judge configuration in effect for one session. Build one with keywords for a
    script or a benchmark; a pytest run resolves one from its options (sources.py)."""

    backend: str = _default("backend")
    model: str = _default("model")
    threshold: float = _default("threshold")
    n_gpu_layers: int = _default("n_gpu_layers")
    n_ctx: int = _default("n_ctx")
    n_threads: int | None = _default("n_threads")
    max_tokens: int = _default("max_tokens")
    retries: int = _default("retries")
    timeout: float = _default("timeout")
    seed: int = _default("seed")
    api_base: tuple[str, ...] = _default("api_base")
    router_config: str | None = _default("router_config")
    api_retries: int = _default("api_retries")
    api_logprobs: bool = _default("api_logprobs")
    concurrency: int = _default("concurrency")
    strategy: str = _default("strategy")
    polls: int = _default("polls")
    min_polls: int = _default("min_polls")
    confidence: float = _default("confidence")
    unstable: str = _default("unstable")
    reasons: str = _default("reasons")
    report: str | None = _default("report")
    record_mode: str = _default("record_mode")
    cache_dir: str | None = _default("cache_dir")
    cache_import: str | None = _default("cache_import")
    cache_export: str | None = _default("cache_export")
    cache_export_prune: bool = _default("cache_export_prune")
    max_calls: int | None = _default("max_calls")
    max_cost: float | None = _default("max_cost")
    dry_run: bool = _default("dry_run")
    html: str | None = _default("html")
    calibration_file: str | None = _default("calibration_file")
    calibrate: str | None = _default("calibrate")
    calibrate_target: tuple[str, float | None] = _default("calibrate_target")
    calibrate_rescale: str = _default("calibrate_rescale")
    update_calibration: bool = _default("update_calibration")
    fit_head: bool = _default("fit_head")
    fit_head_force: bool = _default("fit_head_force")
    heads: str = _default("heads")
    pairwise: str = _default("pairwise")
    panel: str = _default("panel")
    panel_aggregate: str = _default("panel_aggregate")
    panel_quorum: int | None = _default("panel_quorum")
    min_agreement: float | None = _default("min_agreement")
    update_checklists: bool = _default("update_checklists")
    update_baselines: bool = _default("update_baselines")
    significance: float = _default("significance")
    drift: str | None = _default("drift")
    max_flips: int | None = _default("max_flips")
    # Where each value came from ("cli", "ini", "env", "default"), for the report header
    # and the threshold order (thresholds.py).
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    def with_record_mode(self, mode: str) -> Settings:
        return dataclasses.replace(self, record_mode=mode)

    @property
    def policy(self) -> Policy:
        return Policy(strategy=self.strategy, polls=self.polls, min_polls=self.min_polls,
                      confidence=self.confidence, unstable=self.unstable,
                      reasons=self.reasons)

    def backend_config(self) -> BackendConfig:
        """The part of the settings a built-in backend reads."""
        return BackendConfig(
            backend=self.backend, model=self.model, n_ctx=self.n_ctx,
            n_gpu_layers=self.n_gpu_layers, n_threads=self.n_threads,
            api_base=self.api_base, router_config=self.router_config,
            api_retries=self.api_retries, api_logprobs=self.api_logprobs)
