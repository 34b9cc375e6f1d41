"""Check the build output before anything is published."""

import os
import stat
from pathlib import Path

from app.pipeline.errors import StepFailed

MAX_LISTED = 5


def verify_output(output: Path, max_files: int = 0, max_bytes: int = 0) -> tuple[int, int]:
    """Return (file count, total bytes); refuse anything but regular files and directories.

    A symlink or hard link could point a published site at any file on the
    build host (/etc/passwd, Slipway's database), so the output is refused
    outright rather than having such entries skipped silently.
    """
    count = size = 0
    rejected: list[str] = []
    for path, info in _walk(output):
        kind = _unsafe_kind(info)
        if kind:
            rejected.append(f"{path.relative_to(output.parent)} ({kind})")
        elif stat.S_ISREG(info.st_mode):
            count += 1
            size += info.st_size
    if rejected:
        listed = ", ".join(rejected[:MAX_LISTED])
        more = f" and {len(rejected) - MAX_LISTED} more" if len(rejected) > MAX_LISTED else ""
        raise StepFailed(
            "unsafe_output",
            f"The output contains entries Slipway will not "
            f"publish: {listed}{more}. Only regular files and directories are "
            "published; make the build copy files instead of linking them.",
        )
    _check_limits(output, count, size, max_files, max_bytes)
    if count == 0:
        raise StepFailed(
            "output_empty",
            f"Output directory '{output.name}' is empty. Check "
            "the build command and the output directory setting.",
        )
    return count, size


def _check_limits(output: Path, count: int, size: int, max_files: int, max_bytes: int) -> None:
    if max_files and count > max_files:
        raise StepFailed(
            "output_too_large",
            f"The output '{output.name}' has {count} files; "
            f"the limit is {max_files} (MAX_OUTPUT_FILES).",
        )
    if max_bytes and size > max_bytes:
        raise StepFailed(
            "output_too_large",
            f"The output '{output.name}' holds "
            f"{size / 1024**2:.1f} MiB; the limit is {max_bytes / 1024**2:.1f} MiB "
            "(MAX_OUTPUT_BYTES).",
        )


def _walk(root: Path):
    for entry in os.scandir(root):
        info = entry.stat(follow_symlinks=False)
        path = Path(entry.path)
        yield path, info
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(path)


def _unsafe_kind(info: os.stat_result) -> str | None:
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISREG(mode):
        return "hard link" if info.st_nlink > 1 else None
    if stat.S_ISDIR(mode):
        return None
    return "special file"
