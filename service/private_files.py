"""Files only this service's own user may read: the instance folder and what is in it.

The SQLite database (and its ``-wal`` and ``-shm``), the generated secret key and
the demo password hold every phone number, message and password hash. Folders
are created 0700 and files 0600 from the start, never written first and
restricted afterwards (another local user could open them in between), and the
entry points (CLI, launcher, WSGI) set a 0077 umask for everything else.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def restrict_new_files() -> None:
    """Whatever this process (and its children) creates is private to its user."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path, tighten: bool = False) -> Path:
    """Create ``path`` (and missing parents) 0700.

    With ``tighten`` (the instance folder, made world-readable by an older
    version) an existing folder is closed too, when this user owns it and it is
    not a shared, sticky one such as /tmp.
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)  # the mode is narrowed by the umask only
    info = path.stat()
    ours = info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX
    if tighten and ours and info.st_mode & 0o077:
        path.chmod(DIR_MODE)
    return path


def create_private_file(path: Path, text: str) -> bool:
    """Write ``text`` to a new file readable by this user only; False if it exists.

    The content goes to a temporary file opened O_CREAT|O_EXCL with mode 0600 and
    is then linked into place, so a process starting at the same moment reads
    either nothing or the whole file, never half of it.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)


def create_private_empty_file(path: Path) -> None:
    """Create ``path`` 0600 if it does not exist (SQLite then gives -wal and -shm its mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))  # never truncates
