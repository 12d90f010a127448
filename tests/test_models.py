"""Model resolution: paths, packaged (split) models, hub specs, and their errors."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from pytest_llmjudge.backends import models
from pytest_llmjudge.backends.models import PACKAGED, HubModel, PackagedModel, resolve
from pytest_llmjudge.errors import ModelNotFoundError

pytestmark = pytest.mark.mechanics


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("LLMJUDGE_CACHE_DIR", str(cache))
    return cache


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"does not exist; check the path"):
        resolve(str(tmp_path / "nope.gguf"))


def test_file_that_is_not_gguf_is_rejected(tmp_path: Path) -> None:
    fake = tmp_path / "weights.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a model")
    with pytest.raises(ModelNotFoundError, match=r"not a GGUF model file \(it starts with b'PK"):
        resolve(str(fake))


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ModelNotFoundError) as info:
        resolve("gpt-17-ultra")
    message = str(info.value)
    assert "neither a .gguf path" in message
    for name in PACKAGED:
        assert name in message


@pytest.mark.parametrize("spec", ["hf:", "hf:owner/repo", "hf:owner/repo/model.bin", "hf://x.gguf"])
def test_malformed_hub_spec(spec: str) -> None:
    with pytest.raises(ModelNotFoundError, match=r"hf:OWNER/REPO/FILE\.gguf"):
        resolve(spec)


def test_hub_spec_parses() -> None:
    model = resolve("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_0.gguf")
    assert model == HubModel("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_0.gguf")


def test_hub_model_without_network_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_llmjudge.backends.llamacpp import LlamaCppBackend

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never wait on a network that is not there
    model = resolve("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_0.gguf")
    assert isinstance(model, HubModel)
    either = r"(?=.*hf:Qwen/)(?=.*(needs huggingface-hub|could not fetch))"
    with pytest.raises(ModelNotFoundError, match=either):
        LlamaCppBackend(model)


def test_packaged_single_file_model_matches_its_pinned_hash() -> None:
    model = resolve("smollm2-135m")
    assert model.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert hashlib.sha256(model.path.read_bytes()).hexdigest() == model.sha256


def _fake_split_model(root: Path, monkeypatch: pytest.MonkeyPatch, count: int,
                      install: range | None = None) -> tuple[PackagedModel, bytes]:
    """Install ``count`` tiny part packages on sys.path, like the real split models."""
    blobs = [b"GGUF" + bytes([i]) * 1000 if i == 0 else bytes([i]) * 777 for i in range(count)]
    for i in install if install is not None else range(count):
        package = root / f"fakejudge_part{i + 1}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise ImportError('parts must never be imported')")
        (package / "data" / f"part{i + 1:02d}.bin").write_bytes(blobs[i])
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    joined = b"".join(blobs)
    parts, pips = models._split("fakejudge_part", "fakejudge-part", count)
    return PackagedModel("fake-judge", parts, pips, len(joined),
                         hashlib.sha256(joined).hexdigest()), joined


def test_split_model_is_joined_once_and_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _private_cache: Path
) -> None:
    spec, joined = _fake_split_model(tmp_path / "site", monkeypatch, 3)
    monkeypatch.setitem(PACKAGED, spec.name, spec)
    first = resolve("fake-judge")
    assert first.path == _private_cache / "models" / "fake-judge.gguf"
    assert first.path.read_bytes() == joined
    stamp = first.path.stat().st_mtime_ns
    again = resolve("fake-judge")
    assert again.path.stat().st_mtime_ns == stamp  # verified by size, not joined again
    assert not list(first.path.parent.glob("*.part"))  # no temporary files left behind


def test_split_model_with_a_missing_part_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = _fake_split_model(tmp_path / "site", monkeypatch, 3, install=range(0, 3, 2))
    monkeypatch.setitem(PACKAGED, spec.name, spec)
    with pytest.raises(ModelNotFoundError, match=r"1 of 3 packages missing.*pip install "
                                                 r"fakejudge-part2"):
        resolve("fake-judge")


def test_split_model_with_wrong_content_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _private_cache: Path
) -> None:
    spec, _ = _fake_split_model(tmp_path / "site", monkeypatch, 2)
    tampered = PackagedModel(spec.name, spec.parts, spec.pip_names, spec.size, "0" * 64)
    monkeypatch.setitem(PACKAGED, spec.name, tampered)
    with pytest.raises(ModelNotFoundError, match="do not match the pinned hash"):
        resolve("fake-judge")
    assert not (_private_cache / "models" / "fake-judge.gguf").exists()


def test_file_hash_is_remembered_until_the_file_changes(
    tmp_path: Path, _private_cache: Path
) -> None:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF" + b"x" * 100)
    real = hashlib.sha256(path.read_bytes()).hexdigest()
    assert resolve(str(path)).sha256 == real
    (memo,) = (_private_cache / "hashes").glob("*.json")
    memo.write_text(memo.read_text().replace(real, "c" * 64))
    assert resolve(str(path)).sha256 == "c" * 64  # served from the memo, file not re-read
    path.write_bytes(b"GGUF" + b"y" * 100)  # new content, new mtime: hashed again
    assert resolve(str(path)).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_unwritable_cache_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = _fake_split_model(tmp_path / "site", monkeypatch, 2)
    monkeypatch.setitem(PACKAGED, spec.name, spec)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("LLMJUDGE_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(ModelNotFoundError, match="set LLMJUDGE_CACHE_DIR to a writable"):
        resolve("fake-judge")
