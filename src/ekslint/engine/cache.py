"""The per-file cache: a file whose content, ekslint and relevant settings have not
changed is not read, parsed or checked again.

What is cached is the file's ``FileOutcome`` (its cross-file facts, its file-rule
findings and its suppressions), so a warm run only does the cross-file rules. Entries
are found by path and validated by size and mtime, or by a content hash when those
changed (a checkout touches mtimes) or when the file was written so recently that an
edit within the same timestamp tick could go unseen ("racily clean", as git says).

The cache lives in ``.ekslint_cache/`` beside the config file (a ``.gitignore`` in it
keeps it out of commits). It is pickled, and a pickle from an untrusted source can
run code when loaded: a repository could ship a crafted ``.ekslint_cache``. So every
cache file is signed with HMAC-SHA256 under a key that never leaves the user's own
cache directory; anything that does not verify is ignored and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ekslint.fastpickle import fast_pickle

DIRECTORY_NAME = ".ekslint_cache"
FORMAT = b"ekslint-cache-2\n"
# A file modified this close to when its entry was written may have changed again
# within the same mtime tick: its entry is trusted only after a content check.
RACY_SECONDS = 2.0


def content_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


@fast_pickle
@dataclass(slots=True)
class Entry:
    size: int
    mtime_ns: int
    digest: bytes
    packed: tuple[bytes, bytes | None, bytes | None, str]  # the outcome, as analysis.pack gives it
    trusted_stat: bool  # False: compare the content before reusing


def user_cache_home() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "ekslint"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ekslint"


def _signing_key() -> bytes | None:
    """The user's own secret; created on first use, readable by the user only."""
    path = user_cache_home() / "cache-key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key
    except FileExistsError:  # another ekslint created it meanwhile
        try:
            return path.read_bytes()
        except OSError:
            return None
    except OSError:
        return None


class Cache:
    """One cache file per combination of ekslint code, plugins and settings."""

    def __init__(self, directory: Path, salt: str) -> None:
        self.directory = directory
        self.file = directory / f"{hashlib.sha256(salt.encode()).hexdigest()[:24]}.cache"
        self.key = _signing_key()
        self.entries: dict[str, Entry] = {}
        self.dirty = False
        self.started = time.time()
        self.hits = 0

    @property
    def usable(self) -> bool:
        return self.key is not None

    def load(self) -> None:
        if self.key is None:
            return
        try:
            raw = self.file.read_bytes()
        except OSError:
            return
        signature, payload = raw[len(FORMAT) : len(FORMAT) + 32], raw[len(FORMAT) + 32 :]
        if not raw.startswith(FORMAT) or not hmac.compare_digest(
            signature, hmac.new(self.key, payload, hashlib.sha256).digest()
        ):
            return  # not ours, or damaged: start afresh
        try:
            entries = pickle.loads(payload)
        except Exception:
            return
        if isinstance(entries, dict):
            self.entries = entries

    def lookup(self, shown: str, stat: os.stat_result) -> Entry | None:
        """The entry when the file's size and mtime vouch for it; else the entry to
        compare contents with (``trusted_stat`` False), or None."""
        entry = self.entries.get(shown)
        if entry is None:
            return None
        if entry.trusted_stat and entry.size == stat.st_size and entry.mtime_ns == stat.st_mtime_ns:
            return entry
        return Entry(entry.size, entry.mtime_ns, entry.digest, entry.packed, trusted_stat=False)

    def hit(self, shown: str, stat: os.stat_result, entry: Entry) -> tuple[bytes, bytes | None, bytes | None, str]:
        """The packed outcome of a file found unchanged."""
        self.hits += 1
        if not entry.trusted_stat:  # lookup vouched by content: record the new stat
            self.store(shown, stat, entry.digest, entry.packed)
        return entry.packed

    def store(
        self, shown: str, stat: os.stat_result, digest: bytes, packed: tuple[bytes, bytes | None, bytes | None, str]
    ) -> None:
        racy = stat.st_mtime_ns / 1e9 >= self.started - RACY_SECONDS
        self.entries[shown] = Entry(stat.st_size, stat.st_mtime_ns, digest, packed, trusted_stat=not racy)
        self.dirty = True

    def save(self, seen: set[str]) -> None:
        """Write the cache if anything changed. Entries of files this run did not
        see stay (a run on a subdirectory keeps the rest) unless the file is gone."""
        if self.key is None or not self.dirty:
            return
        for shown in [s for s in self.entries if s not in seen]:
            if not os.path.lexists(shown):
                del self.entries[shown]
        payload = pickle.dumps(self.entries, protocol=pickle.HIGHEST_PROTOCOL)
        signature = hmac.new(self.key, payload, hashlib.sha256).digest()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by ekslint: its cache is not part of the repository.\n*\n")
            fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
        except OSError:
            return  # a read-only checkout still lints; it is only slower next time
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(FORMAT + signature + payload)
            os.replace(temporary, self.file)  # readers see the old or the new file, never half
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
