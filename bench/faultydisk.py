"""A disk that fails when a test says so: a loopback FUSE filesystem in its own process.

The record's promise is about what the kernel returns: an fsync that fails (EIO) or a write the
disk refuses half-way (ENOSPC) is never acknowledged and leaves no line behind. A test that
wraps ``os.fsync`` in Python checks only that kunren calls the wrapper; this filesystem makes
the kernel return the failure, through the same system calls a failing disk answers.

Every operation passes through to a folder beside the mount (``ROOT``), except the ones the test
armed. A test arms a failure by writing a file into the control folder, which the filesystem
consumes on the next matching operation:

- ``fsync``: holds an errno name, a size and optionally a file name (``EIO 0 events.jsonl``):
  the next fsync of a file (of that name) at least that many bytes long fails with it;
- ``write``: ``ENOSPC 10``: the next write stores its first 10 bytes and returns that count
  (a short write, as a filling disk gives), and the write after it fails with ENOSPC;
- ``write.hold``: present, the next write waits until the test removes it (bounded: 60 s), and
  ``write.held`` appears while it waits, so the test can wait for that without sleeping; the
  held write is then written whole (a failure armed meanwhile is for the write after it);
- ``fsync.hold``: the same for the next fsync (``fsync.held`` while it waits); the held fsync
  then syncs for real, unless an fsync failure was armed meanwhile.

Each fsync that reaches the filesystem adds its file's name as a line to ``fsynced`` in the
control folder (before any hold), so a test counts the fsyncs the kernel passed on, not the
calls a Python wrapper saw.

Run as ``python -m bench.faultydisk ROOT MOUNT CONTROL`` (libfuse 3 from Debian's ``fuse3`` and
``libfuse3-3``, ``/dev/fuse``, and root or ``fusermount3``). ``FaultyDisk`` starts one for a
test or a campaign trial, and unmounts it and stops its process afterwards; the tests' fixture
is ``faulty_disk``, and ``bench.trials`` runs drills on it whose fsync fails at random sizes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from bench.common import wait_for
from kunren.runtime.clock import monotonic

HOLD_LIMIT = 60.0  # real seconds a held write or fsync waits for the test at most
TALLY = "fsynced"  # in the control folder: one line per fsync, its file's name


def unusable() -> str | None:
    """Why a FUSE filesystem cannot be mounted here, or None if it can."""
    if not Path("/dev/fuse").exists():
        return "no /dev/fuse on this machine"
    try:
        import mfusepy  # noqa: F401  (loads libfuse through ctypes)
    except (ImportError, OSError) as exc:
        return f"libfuse cannot be loaded ({exc}): apt-get install fuse3 libfuse3-3"
    if os.geteuid() != 0 and shutil.which("fusermount3") is None:
        return "not root and no fusermount3: apt-get install fuse3"
    return None


class FaultyDisk:
    """One mounted faulty filesystem: ``mount`` is where a test writes, ``arm_*`` fail it."""

    def __init__(self, base: Path) -> None:
        self.root = base / "disk"
        self.mount = base / "mnt"
        self.control = base / "control"
        for folder in (self.root, self.mount, self.control):
            folder.mkdir(parents=True)
        self._log = (base / "faultydisk.log").open("w")
        folders = [str(self.root), str(self.mount), str(self.control)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.faultydisk", *folders],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
            start_new_session=True,
        )
        try:
            wait_for(self._mounted, timeout=30, what="the FUSE filesystem")
        except RuntimeError:
            self.close()
            raise

    def _mounted(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"the FUSE filesystem exited ({self.proc.returncode}): {self.log_text()}"
            )
        return os.path.ismount(self.mount)

    def log_text(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace").strip()

    def arm_fsync(self, name: str = "EIO", *, at_least: int = 0, file: str = "") -> None:
        """The next fsync on this disk of a file of ``at_least`` bytes (named ``file``, if
        given) fails with errno ``name``."""
        (self.control / "fsync").write_text(f"{name} {at_least} {file}", encoding="ascii")

    def arm_short_write(self, stored: int, name: str = "ENOSPC") -> None:
        """The next write stores ``stored`` bytes (a short write); the write after it fails."""
        (self.control / "write").write_text(f"{name} {stored}", encoding="ascii")

    def hold_next_write(self) -> None:
        (self.control / "write.hold").touch()

    def hold_next_fsync(self) -> None:
        (self.control / "fsync.hold").touch()

    def holding(self, what: str = "write") -> bool:
        """A write (or an fsync: ``what="fsync"``) is waiting for ``release``."""
        return (self.control / f"{what}.held").exists()

    def release(self) -> None:
        """Let a held write and a held fsync go on."""
        (self.control / "write.hold").unlink(missing_ok=True)
        (self.control / "fsync.hold").unlink(missing_ok=True)

    def fsynced(self) -> list[str]:
        """The names of the files fsynced on this disk, one per fsync, oldest first."""
        try:
            return (self.control / TALLY).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []

    def disarm(self) -> None:
        """Take back every failure armed and not consumed (a trial that never reached it)."""
        for path in self.control.iterdir():
            if path.name != TALLY:
                path.unlink(missing_ok=True)

    def armed(self) -> list[str]:
        """The failures armed and not yet consumed."""
        return sorted(path.name for path in self.control.iterdir() if path.name != TALLY)

    def close(self) -> None:
        """Unmount, then stop the process (it ends on its own once unmounted)."""
        self.release()
        if os.path.ismount(self.mount):
            umount = ["umount"] if os.geteuid() == 0 else ["fusermount3", "-u"]
            subprocess.run([*umount, str(self.mount)], capture_output=True, timeout=30)
        with contextlib.suppress(subprocess.TimeoutExpired):  # unmounted, it ends by itself
            self.proc.wait(timeout=10)
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it ended since the check
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        if os.path.ismount(self.mount):  # the process died without unmounting
            subprocess.run(["umount", "-l", str(self.mount)], capture_output=True, timeout=30)
        self._log.close()


def _filesystem(root: Path, control: Path) -> Any:
    """The ``mfusepy.Operations`` of the loopback filesystem (mfusepy has no type hints)."""
    import mfusepy

    class Loopback(mfusepy.Operations):  # type: ignore[misc]
        use_ns = True

        def __init__(self) -> None:
            self.refusal: str | None = None  # after an armed short write: the next one's errno
            self.lock = threading.Lock()

        def _path(self, path: str) -> str:
            return os.path.join(root, path.lstrip("/"))

        def _take(self, name: str, path: str = "", size: int = 0) -> list[str] | None:
            """The armed failure ``name`` (its words), consumed; None if none is armed for the
            file at ``path`` of ``size`` bytes (an fsync's: its least size, its file name)."""
            with self.lock:
                armed = control / name
                try:
                    words = armed.read_text(encoding="ascii").split()
                except FileNotFoundError:
                    return None
                if name == "fsync" and size < int(words[1]):
                    return None
                if name == "fsync" and len(words) > 2 and os.path.basename(path) != words[2]:
                    return None
                armed.unlink()
                return words

        def _held(self, what: str = "write") -> bool:
            """Whether this write (or fsync) was held until the test released it."""
            if not (control / f"{what}.hold").exists():
                return False
            (control / f"{what}.held").touch()
            deadline = monotonic() + HOLD_LIMIT
            while (control / f"{what}.hold").exists() and monotonic() < deadline:
                threading.Event().wait(0.002)
            (control / f"{what}.held").unlink(missing_ok=True)
            return True

        def access(self, path: str, amode: int) -> int:
            if not os.access(self._path(path), amode):
                raise mfusepy.FuseOSError(errno.EACCES)
            return 0

        def getattr(self, path: str, fh: int | None = None) -> dict[str, int]:
            st = os.fstat(fh) if fh is not None else os.lstat(self._path(path))
            keys = ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid", "st_ino")
            found = {key: int(getattr(st, key)) for key in keys}
            found.update(st_atime=st.st_atime_ns, st_mtime=st.st_mtime_ns)
            found.update(st_ctime=st.st_ctime_ns)
            return found

        def readdir(self, path: str, fh: int) -> list[str]:
            return [".", "..", *os.listdir(self._path(path))]

        def readlink(self, path: str) -> str:
            return os.readlink(self._path(path))

        def mkdir(self, path: str, mode: int) -> int:
            os.mkdir(self._path(path), mode)
            return 0

        def rmdir(self, path: str) -> int:
            os.rmdir(self._path(path))
            return 0

        def unlink(self, path: str) -> int:
            os.unlink(self._path(path))
            return 0

        def symlink(self, target: str, source: str) -> int:
            os.symlink(source, self._path(target))
            return 0

        def rename(self, old: str, new: str) -> int:
            os.replace(self._path(old), self._path(new))
            return 0

        def link(self, target: str, source: str) -> int:
            os.link(self._path(source), self._path(target))
            return 0

        def chmod(self, path: str, mode: int) -> int:
            os.chmod(self._path(path), mode)
            return 0

        def chown(self, path: str, uid: int, gid: int) -> int:
            os.chown(self._path(path), uid, gid)
            return 0

        def utimens(self, path: str, times: tuple[int, int] | None = None) -> int:
            if times is None:
                os.utime(self._path(path))
            else:
                os.utime(self._path(path), ns=times)
            return 0

        def truncate(self, path: str, length: int, fh: int | None = None) -> int:
            if fh is not None:
                os.ftruncate(fh, length)
            else:
                os.truncate(self._path(path), length)
            return 0

        def open(self, path: str, flags: int) -> int:
            return os.open(self._path(path), flags & ~os.O_CREAT)

        def create(self, path: str, mode: int, flags: int = os.O_RDWR) -> int:
            return os.open(self._path(path), flags | os.O_CREAT, mode)

        def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
            return os.pread(fh, size, offset)

        def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
            if self._held():
                return os.pwrite(fh, data, offset)
            refusal, self.refusal = self.refusal, None
            if refusal is not None:
                raise mfusepy.FuseOSError(getattr(errno, refusal))
            armed = self._take("write")
            if armed is not None:
                self.refusal, stored = armed
                return os.pwrite(fh, data[: int(stored)], offset)
            return os.pwrite(fh, data, offset)

        def flush(self, path: str, fh: int) -> int:
            return 0

        def release(self, path: str, fh: int) -> int:
            os.close(fh)
            return 0

        def fsync(self, path: str, datasync: int, fh: int) -> int:
            with self.lock, open(control / TALLY, "a", encoding="utf-8") as tally:
                tally.write(os.path.basename(path) + "\n")
            self._held("fsync")
            armed = self._take("fsync", path, os.fstat(fh).st_size)
            if armed is not None:
                raise mfusepy.FuseOSError(getattr(errno, armed[0]))
            if datasync:
                os.fdatasync(fh)
            else:
                os.fsync(fh)
            return 0

        def fsyncdir(self, path: str, datasync: int, fh: int) -> int:
            return 0

        def statfs(self, path: str) -> dict[str, int]:
            st = os.statvfs(self._path(path))
            keys = "f_bavail f_bfree f_blocks f_bsize f_favail f_ffree f_files f_flag f_frsize"
            keys += " f_namemax"
            return {key: int(getattr(st, key)) for key in keys.split()}

    return Loopback()


def main(argv: list[str]) -> None:
    import mfusepy

    root, mount, control = (Path(arg).resolve() for arg in argv)
    mfusepy.FUSE(_filesystem(root, control), str(mount), foreground=True, nothreads=False)


if __name__ == "__main__":
    main(sys.argv[1:])
