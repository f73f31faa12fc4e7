"""Writing files so that nothing a user saved is lost.

Every file chainrule writes (``save``, ``save_safetensors``, drawings, the tour's and the CLI's
outputs) goes through ``atomic_write``: the bytes go to a temporary file in the target's folder,
are flushed and fsynced, and only then renamed over the target with ``os.replace``, which is
atomic on POSIX and Windows.  An interruption at any point (an exception, Ctrl-C, SIGKILL, a full
disk) leaves either the old file or the new one, never a truncated mix.
"""
import contextlib
import errno
import os
import tempfile


def _default_mode(path):
    """The permission bits a plain ``open(path, "w")`` would give: the old file's, or 0o666
    less the umask (``mkstemp`` creates its file 0o600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    umask = None
    try:
        with open("/proc/self/status") as f:      # reading the umask without changing it
            for line in f:
                if line.startswith("Umask:"):
                    umask = int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    if umask is None:                              # not Linux: the racy but portable way
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path, mode="wb", encoding=None):
    """Open a temporary file beside ``path`` for writing; on a clean exit, put it in place.

    >>> with atomic_write("/tmp/chainrule-example.txt", "w", encoding="utf-8") as f:
    ...     _ = f.write("kept whole or not at all")
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    shown = os.fspath(path)
    path = os.path.realpath(shown)          # through a symlink to its target, as open() writes
    if os.path.isdir(path):                 # say so now, not after all the writing
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), shown)
    folder, name = os.path.split(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    except OSError as e:                    # name the user's path, not the temporary one
        raise type(e)(e.errno, e.strerror, shown) from None
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(folder)


def _sync_folder(folder):
    """Make the rename itself durable (POSIX); a no-op where folders can't be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable_folder(folder, what):
    """Create ``folder`` if needed and check a file can be written there, before any work that
    would be wasted: raises ``OSError`` naming ``what`` the folder is for and why it failed."""
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise NotADirectoryError(errno.ENOTDIR, f"can't write {what} to {folder!r}: it is a "
                                 "file, not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".chainrule-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OSError(e.errno, f"can't write {what} to {folder!r}: {e.strerror}") from None
    return folder
