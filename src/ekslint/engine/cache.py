"""The per-file cache: a file whose content, ekslint and relevant settings have not
changed is not read, parsed or checked again.

What is cached is the file's ``FileOutcome`` (its cross-file facts, its file-rule
findings and its suppressions), so a warm run only does the cross-file rules. Entries
are found by path and validated as git validates its index: by size, mtime, ctime
and inode (a same-size edit with the mtime put back still changes the ctime; a file
swapped in by ``cp -p``, rsync or tar has another inode and ctime), else by a
content hash: when the stat changed (a checkout touches every file), or when the
file was written so recently that an edit within the same timestamp tick could go
unseen ("racily clean", as git says). Beside the entries it keeps the directories'
listings (``ekslint.parse.discovery.Listings``): an unchanged directory is not listed
again, as git's untracked cache does.

The cache lives in ``.ekslint_cache/`` beside the config file (a ``.gitignore`` in it
keeps it out of commits), which a repository can ship too. So:

- it is pickled, and a pickle from an untrusted source can run code when loaded:
  every cache file is signed with HMAC-SHA256 under a 32-byte key kept in the
  user's own cache directory, owner-only; a key that is empty, short, unreadable,
  not a regular file, not the user's own or readable by others (a committed one) is
  never used but replaced. Anything that does not verify is ignored and rebuilt;
- nothing is read or written through a symlink: the directory is opened without
  following one (a symlinked ``.ekslint_cache`` disables the cache), files in it are
  opened with ``O_NOFOLLOW``, and every write goes to a fresh temporary file renamed
  over the old one, which replaces a symlink instead of writing where it points;
- it is pruned: at most ``MAX_CACHE_FILES`` combinations of settings are kept, none
  unused for ``MAX_AGE_SECONDS``, and temporary files a killed run left behind go.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import stat as stat_module
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ekslint.parse.discovery import Listings

DIRECTORY_NAME = ".ekslint_cache"
FORMAT = b"ekslint-cache-6\n"
KEY_BYTES = 32
KEY_NAME = "cache-key"
# A file modified this close to when its entry was written may have changed again
# within the same mtime tick: its entry is trusted only after a content check.
RACY_SECONDS = 2.0
# Pruning: one file per combination of settings and code.
MAX_CACHE_FILES = 8
MAX_AGE_SECONDS = 30 * 24 * 3600
STALE_TEMPORARY_SECONDS = 3600
# A cache file larger than this is not ours (50,000 files make about 100 MB).
MAX_CACHE_BYTES = 2 * 1024**3
SUFFIX = ".cache"
_TEMPORARY = ".tmp-"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
# Where directories can be held open and worked in by descriptor (Linux, macOS, BSD),
# a directory swapped for a symlink mid-run changes nothing.
_BY_FD = os.open in os.supports_dir_fd and os.rename in os.supports_dir_fd and bool(_NOFOLLOW and _DIRECTORY)


def content_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


# (path, size, mtime_ns, ctime_ns) of a file an outcome depends on; -1s when it is
# missing. A path ``DIR/*.tf`` stands for which .tf files DIR holds: (path, -2, digest
# of their names, 0), so a file added to a Terraform module or removed from it counts,
# and other files coming and going (this cache's own directory) do not.
Stamp = tuple[str, int, int, int]
LISTING = "*.tf"


def _stamp(path: str) -> Stamp:
    if os.path.basename(path) == LISTING:
        folder = os.path.dirname(path)
        try:
            names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(".tf"))
        except OSError:
            return (path, -1, -1, -1)
        digest = hashlib.blake2b("\n".join(names).encode(), digest_size=8).digest()
        return (path, -2, int.from_bytes(digest, "big"), 0)
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1, -1)
    return (path, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def stamps_of(paths: list[str]) -> tuple[Stamp, ...]:
    """The stamps of the files (and directory listings) an outcome was built from."""
    found: dict[str, Stamp] = {}
    for path in paths:
        full = os.path.abspath(path)
        if full not in found:
            found[full] = _stamp(full)
    return tuple(found.values())


@dataclass(slots=True)
class Entry:
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    digest: bytes
    packed: tuple[bytes, bytes | None, bytes | None, str]  # the outcome, as analysis.pack gives it
    trusted_stat: bool  # False: compare the content before reusing
    depends: tuple[Stamp, ...] = ()


# An entry as the cache file holds it: Entry's fields as a plain tuple, which unpickles
# with no Python call (10,000 entries: half the load time of a one-file run's cache),
# then the stamps of the other files the outcome was built from (``stamps_of``).
RawEntry = tuple[int, int, int, int, bytes, tuple[bytes, bytes | None, bytes | None, str], bool, tuple[Stamp, ...]]


def user_cache_home() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "ekslint"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ekslint"


class SafeDirectory:
    """A directory whose files are read and replaced without following symlinks:
    held open by descriptor where the platform allows, else by path with each name
    checked not to be a symlink."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def open(cls, path: Path, create: bool, mode: int = 0o777) -> SafeDirectory | None:
        """The directory at ``path`` (created if asked), or None when it cannot be
        had or is a symlink."""
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(FileExistsError):
                    os.mkdir(path, mode)  # never follows a symlink at ``path``
            if not _BY_FD:
                st = os.lstat(path)
                return cls(path, None) if stat_module.S_ISDIR(st.st_mode) else None
            return cls(path, os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC))
        except OSError:  # missing, a symlink (ELOOP), not a directory, no permission
            return None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> SafeDirectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def make_private(self) -> None:
        """Owner-only, when it is the user's own (one an older ekslint made 0755)."""
        if self.fd is None or not hasattr(os, "getuid"):
            return
        with contextlib.suppress(OSError):
            st = os.fstat(self.fd)
            if st.st_uid == os.getuid() and st.st_mode & 0o077:
                os.fchmod(self.fd, 0o700)

    def _where(self, name: str) -> str:
        return name if self.fd is not None else str(self.path / name)

    def lstat(self, name: str) -> os.stat_result:
        return os.stat(self._where(name), dir_fd=self.fd, follow_symlinks=False)

    def read(self, name: str, max_bytes: int) -> tuple[bytes, os.stat_result]:
        """The content of a regular file (never a symlink, a FIFO or a device), and
        its stat. Raises OSError."""
        if self.fd is None and stat_module.S_ISLNK(self.lstat(name).st_mode):
            raise OSError(f"{name} is a symlink")
        flags = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY
        fd = os.open(self._where(name), flags, dir_fd=self.fd)
        try:
            st = os.fstat(fd)
            if not stat_module.S_ISREG(st.st_mode) or st.st_size > max_bytes:
                raise OSError(f"{name} is not a regular file of at most {max_bytes} bytes")
            # One buffer sized by the stat, read into in place (a cache file is tens
            # of MB: no chunks joined, no second copy).
            with os.fdopen(fd, "rb", buffering=0, closefd=False) as handle:
                data = handle.readall()
            if len(data) > max_bytes:
                raise OSError(f"{name} grew while being read")
            return data, st
        finally:
            os.close(fd)

    def replace(self, name: str, data: bytes, mode: int = 0o644) -> None:
        """Write ``data`` to ``name`` atomically: a new file in this directory,
        renamed over ``name`` (which replaces a symlink, never writes through it).
        Readers see the old content or the new, never half. Raises OSError."""
        temporary = f"{_TEMPORARY}{secrets.token_hex(8)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
        fd = os.open(self._where(temporary), flags, mode, dir_fd=self.fd)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(
                self._where(temporary), self._where(name), src_dir_fd=self.fd, dst_dir_fd=self.fd
            )  # fmt: skip
        except BaseException:
            with contextlib.suppress(OSError):
                self.unlink(temporary)
            raise

    def unlink(self, name: str) -> None:
        os.unlink(self._where(name), dir_fd=self.fd)  # removes a symlink, not its target

    def touch(self, name: str) -> None:
        with contextlib.suppress(OSError, NotImplementedError):
            os.utime(self._where(name), dir_fd=self.fd, follow_symlinks=False)

    def names(self) -> Iterator[str]:
        with os.scandir(self.fd if self.fd is not None else self.path) as entries:
            for entry in entries:
                yield entry.name


def _usable_key(data: bytes, st: os.stat_result) -> bool:
    """A key to trust: 32 bytes, the user's own file, readable by nobody else. A
    committed key (checked out 0644) or one left empty by a killed first run is not."""
    if len(data) != KEY_BYTES or not stat_module.S_ISREG(st.st_mode):
        return False
    if hasattr(os, "getuid"):
        # 0600 or 0400: not 0000, which only root could read.
        return st.st_uid == os.getuid() and not st.st_mode & 0o077 and bool(st.st_mode & 0o400)
    return True


def key_outside(directory: Path) -> bool:
    """Whether the signing key is kept outside the repository a default cache
    directory belongs to (a key a repository can ship is no secret)."""
    if directory.name != DIRECTORY_NAME:
        return True  # an explicit --cache-dir: no repository to compare with
    try:
        repository = directory.parent.resolve()
        return not user_cache_home().resolve().is_relative_to(repository)
    except (OSError, RuntimeError):
        return False


def signing_key() -> bytes | None:
    """The user's own secret, kept outside any repository; created (or replaced, when
    the one there is not usable) on first use. None: no key can be had, no cache."""
    home = SafeDirectory.open(user_cache_home(), create=True, mode=0o700)
    if home is None:
        return None
    with home:
        home.make_private()
        try:
            data, st = home.read(KEY_NAME, KEY_BYTES)
            if _usable_key(data, st):
                return data
        except OSError:
            pass  # missing, unreadable, too long, a symlink: replaced below
        key = secrets.token_bytes(KEY_BYTES)
        try:
            home.replace(KEY_NAME, key, mode=0o600)
            data, st = home.read(KEY_NAME, KEY_BYTES)  # another ekslint may have won the race
        except OSError:
            return None
        return data if _usable_key(data, st) else None


class Cache:
    """One cache file per combination of ekslint code, plugins and settings."""

    def __init__(self, directory: Path, salt: str) -> None:
        self.directory = directory
        self.name = f"{hashlib.sha256(salt.encode()).hexdigest()[:24]}{SUFFIX}"
        self.file = directory / self.name
        self.key = signing_key() if key_outside(directory) else None
        self.entries: dict[str, RawEntry] = {}
        self.listings = Listings()  # the directories' listings, for the walk
        self.dirty = False
        self.started = time.time()
        self.hits = 0
        # The current stamp of each file outcomes depend on, taken once a run: the .tf
        # files of one module all depend on each other (n files, n stats, not n²).
        self._current: dict[str, Stamp] = {}

    @property
    def usable(self) -> bool:
        return self.key is not None

    def load(self) -> None:
        if self.key is None:
            return
        folder = SafeDirectory.open(self.directory, create=False)
        if folder is None:
            return
        with folder:
            try:
                raw, _ = folder.read(self.name, MAX_CACHE_BYTES)
            except OSError:
                return
            view = memoryview(raw)  # the payload is most of the file: not copied
            signature, payload = raw[len(FORMAT) : len(FORMAT) + 32], view[len(FORMAT) + 32 :]
            if not raw.startswith(FORMAT) or not hmac.compare_digest(
                signature, hmac.new(self.key, payload, hashlib.sha256).digest()
            ):
                return  # not ours, or damaged: start afresh
            try:
                loaded = pickle.loads(payload)
            except Exception:
                return
            if isinstance(loaded, tuple) and len(loaded) == 2 and all(isinstance(part, dict) for part in loaded):
                self.entries, listings = loaded
                self.listings = Listings(listings)
                folder.touch(self.name)  # used: pruning keeps it

    def lookup(self, shown: str, stat: os.stat_result) -> Entry | None:
        """The entry when the file's stat vouches for it; else the entry to compare
        contents with (``trusted_stat`` False), or None."""
        raw = self.entries.get(shown)
        if raw is None:
            return None
        size, mtime_ns, ctime_ns, inode, digest, packed, trusted, depends = raw
        if depends and not self.stamps_hold(depends):
            return None  # a file it was built from changed: analysed again
        same = size == stat.st_size and mtime_ns == stat.st_mtime_ns and ctime_ns == stat.st_ctime_ns
        return Entry(
            size, mtime_ns, ctime_ns, inode, digest, packed, trusted and same and inode == stat.st_ino, depends
        )

    def stamps_hold(self, depends: tuple[Stamp, ...]) -> bool:
        """Whether every file an outcome depends on still has the stamp it was read with."""
        for stamp in depends:
            current = self._current.get(stamp[0])
            if current is None:
                current = self._current[stamp[0]] = _stamp(stamp[0])
            if current != stamp:
                return False
        return True

    def vouched(self, shown: str, stat: os.stat_result) -> tuple[bytes, bytes | None, bytes | None, str] | None:
        """The packed outcome when the file's stat alone vouches for its entry (a warm
        run's usual case, answered without building an ``Entry``); else None, and
        ``lookup`` says more. Not yet counted as a hit: see ``count_hit``."""
        raw = self.entries.get(shown)
        if (
            raw is None
            or not raw[6]
            or raw[0] != stat.st_size
            or raw[1] != stat.st_mtime_ns
            or raw[2] != stat.st_ctime_ns
            or raw[3] != stat.st_ino
            or (raw[7] and not self.stamps_hold(raw[7]))
        ):
            return None
        return raw[5]

    def count_hit(self) -> None:
        self.hits += 1

    def hit(self, shown: str, stat: os.stat_result, entry: Entry) -> tuple[bytes, bytes | None, bytes | None, str]:
        """The packed outcome of a file found unchanged."""
        self.hits += 1
        if not entry.trusted_stat:  # lookup vouched by content: record the new stat
            self.store(shown, stat, entry.digest, entry.packed, entry.depends)
        return entry.packed

    def store(
        self,
        shown: str,
        stat: os.stat_result,
        digest: bytes,
        packed: tuple[bytes, bytes | None, bytes | None, str],
        depends: tuple[Stamp, ...] = (),
    ) -> None:
        changed = max(stat.st_mtime_ns, stat.st_ctime_ns) / 1e9
        racy = changed >= self.started - RACY_SECONDS
        if any(d[1] >= 0 and d[2] / 1e9 >= self.started - RACY_SECONDS for d in depends):
            # A file it read may change again unseen within its mtime tick (a later
            # change shows in the ctime, which the stamp holds too).
            self.forget(shown)
            return
        self.entries[shown] = (
            stat.st_size,
            stat.st_mtime_ns,
            stat.st_ctime_ns,
            stat.st_ino,
            digest,
            packed,
            not racy,
            depends,
        )
        self.dirty = True

    def forget(self, shown: str) -> None:
        if self.entries.pop(shown, None) is not None:
            self.dirty = True

    def save(self, seen: set[str]) -> None:
        """Write the cache if anything changed, then prune the directory. Entries of
        files this run did not see stay (a run on a subdirectory keeps the rest)
        unless the file is gone."""
        if self.key is None or not (self.dirty or self.listings.changed):
            return
        for shown in [s for s in self.entries if s not in seen]:
            if not os.path.lexists(shown):
                del self.entries[shown]
        listings = self.listings
        for listed in [f for f in listings.known if f not in listings.listed]:
            if not os.path.isdir(listed):
                del listings.known[listed]
        payload = pickle.dumps((self.entries, listings.known), protocol=pickle.HIGHEST_PROTOCOL)
        signature = hmac.new(self.key, payload, hashlib.sha256).digest()
        folder = SafeDirectory.open(self.directory, create=True)
        if folder is None:
            return  # a read-only checkout, or a symlink where the cache should be: only slower
        with folder:
            try:
                _keep_out_of_git(folder)
                folder.replace(self.name, FORMAT + signature + payload)
            except OSError:
                return
            prune(folder, keep=self.name)


def _keep_out_of_git(folder: SafeDirectory) -> None:
    try:
        if stat_module.S_ISREG(folder.lstat(".gitignore").st_mode):
            return
    except FileNotFoundError:
        pass
    # Missing, or a symlink (a committed one may point anywhere): ours replaces it.
    folder.replace(".gitignore", b"# Created by ekslint: its cache is not part of the repository.\n*\n")


def prune(folder: SafeDirectory, keep: str, now: float | None = None) -> list[str]:
    """Remove cache files beyond the ``MAX_CACHE_FILES`` most recently used, those
    unused for ``MAX_AGE_SECONDS``, stale temporary files, and symlinks posing as
    either; never ``keep``. The names removed."""
    now = time.time() if now is None else now
    caches: list[tuple[float, str]] = []
    removed: list[str] = []
    try:
        names = list(folder.names())
    except OSError:
        return removed
    for name in names:
        if name == keep or not (name.endswith(SUFFIX) or name.startswith(_TEMPORARY)):
            continue
        try:
            st = folder.lstat(name)
        except OSError:
            continue
        age = now - st.st_mtime
        if not stat_module.S_ISREG(st.st_mode):
            doomed = stat_module.S_ISLNK(st.st_mode)
        elif name.startswith(_TEMPORARY):
            doomed = age > STALE_TEMPORARY_SECONDS
        else:
            doomed = age > MAX_AGE_SECONDS
            if not doomed:
                caches.append((st.st_mtime, name))
        if doomed:
            removed.append(name)
    caches.sort(reverse=True)
    removed.extend(name for _, name in caches[MAX_CACHE_FILES - 1 :])  # ``keep`` is one of the kept
    for name in removed:
        with contextlib.suppress(OSError):
            folder.unlink(name)
    return removed
