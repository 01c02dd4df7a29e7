"""Storage faults made for real, on a small filesystem of the test's own: full, read-only.

A tmpfs mounted with ``size=`` in a temporary directory is a disk the test can fill (a
ballast file written until the kernel answers ``ENOSPC``) without touching the machine's
disks. Mounting needs root, or ``sudo`` without a password; without either the tests fail,
naming what they need (they are not skipped: CI runs as root or with sudo).

"The file is read-only for a while" is made with a read-only bind mount stacked over the
directory: files opened before keep writing through the mount beneath, and files opened
meanwhile are opened read-only and stay so after the mount is lifted. That is what
``chmod a-w`` does to a service running as an ordinary user; the tests run as root, which
no permission bit stops.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

BALLAST_CHUNK = 1024 * 1024


def _privileged(argv: list[str]) -> list[str]:
    return argv if os.geteuid() == 0 else ["sudo", "-n", *argv]


def run_privileged(argv: list[str]) -> None:
    """Run ``argv`` as root (directly, or through ``sudo -n``); fail the test if it cannot."""
    try:
        subprocess.run(_privileged(argv), check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.CalledProcessError) as exc:
        output = getattr(exc, "stderr", b"") or b""
        pytest.fail(
            f"{' '.join(argv)} failed: the storage fault tests mount a small tmpfs and need "
            f"root or passwordless sudo ({exc}; {output.decode(errors='replace').strip()})",
            pytrace=False,
        )


def _unmount_everything_at(directory: Path) -> None:
    # Lazily: a server still holding files open there must not make the clean-up fail.
    for _ in range(5):
        if not os.path.ismount(directory):
            return
        subprocess.run(_privileged(["umount", "-l", str(directory)]), capture_output=True)


@contextmanager
def small_tmpfs(directory: Path, size_mib: int, *, owner: str | None = None) -> Iterator[Path]:
    """A tmpfs of ``size_mib`` MiB mounted on ``directory`` (created), owned by the current
    user or by ``owner`` (a user name), unmounted when the block ends."""
    directory.mkdir(parents=True, exist_ok=True)
    if owner is None:
        ids = f"uid={os.getuid()},gid={os.getgid()}"
    else:
        import pwd

        account = pwd.getpwnam(owner)
        ids = f"uid={account.pw_uid},gid={account.pw_gid}"
    options = f"size={size_mib}m,mode=0700,{ids}"
    run_privileged(["mount", "-t", "tmpfs", "-o", options, "avk-test", str(directory)])
    try:
        yield directory
    finally:
        _unmount_everything_at(directory)


@contextmanager
def read_only_for_new_opens(directory: Path) -> Iterator[None]:
    """Make ``directory`` read-only for files opened during the block (see the module)."""
    run_privileged(["mount", "--bind", str(directory), str(directory)])
    try:
        run_privileged(["mount", "-o", "remount,bind,ro", str(directory)])
        yield
    finally:
        # Lazily: files opened read-only meanwhile keep that mount alive, and stay read-only.
        run_privileged(["umount", "-l", str(directory)])


def fill(directory: Path) -> Path:
    """Write a ballast file into ``directory`` until its filesystem is full; return its path."""
    ballast = directory / "ballast"
    chunk = b"\0" * BALLAST_CHUNK
    with open(ballast, "wb", buffering=0) as file:
        size = len(chunk)
        while size:
            try:
                file.write(chunk[:size])
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                size //= 2  # the last few pages
    return ballast


def free_bytes(directory: Path) -> int:
    """Bytes left on ``directory``'s filesystem."""
    status = os.statvfs(directory)
    return status.f_bavail * status.f_frsize


def remove(path: Path) -> None:
    """Remove ``path`` if it exists."""
    with suppress(FileNotFoundError):
        path.unlink()
