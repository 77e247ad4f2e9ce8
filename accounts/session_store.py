"""Sessions: Django's `cached_db`, with the signed-in customer kept in the cache entry.

A signed-in request needs its session and its customer; Django's `cached_db` and a
cached user cost two Redis round trips, each about 0.2 M instructions of redis-py and
Django's cache layer (benchmarks.profile). Here the entry is one pickle of (FORMAT,
the session's own pickle, a Snapshot of the customer or None), read with one GET. The
session's data is still written to PostgreSQL and the entry is rebuilt from it on a
miss; the customer is never written to the database's session row.

How a copy of the customer gets into an entry, and out of it (accounts.backends):
- on a request whose entry holds no fresh copy, the middleware reads the customer's
  version, then the row, and `user_snapshot_keep` writes the copy with a compare-and-
  set in Lua: only if the entry is still the one this request read (so a session
  signed out meanwhile is not brought back) and the version has not moved (so a copy
  read before a change is not put back after it);
- `save` writes the session with the copy it holds only if the version has not moved,
  in the same script, and without it otherwise;
- every change of the customer deletes the entries of all their sessions.
With the embedded default's local-memory cache this is plain `cached_db` and the
customer comes from the database.
"""

from __future__ import annotations

import copyreg
import datetime as dt
import io
import logging
import pickle
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore

from core.cache import redis_cache

from .backends import Snapshot, snapshot_keys

logger = logging.getLogger(__name__)

FORMAT = "onepanel-session-1"

# KEYS: the entry, the customer's version, their sessions' set.
# ARGV: the entry as this request read it, the version the copy was read at, the new entry.
_KEEP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
redis.call('SADD', KEYS[3], KEYS[1])
local seconds = redis.call('TTL', KEYS[1])
if redis.call('TTL', KEYS[3]) < seconds then redis.call('EXPIRE', KEYS[3], seconds) end
return 1
"""

# KEYS as above. ARGV: the version the copy was read at, the entry with the copy, the
# entry without it, the entry's seconds.
_SAVE = """
if (redis.call('GET', KEYS[2]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[4])
  redis.call('SADD', KEYS[3], KEYS[1])
  if redis.call('TTL', KEYS[3]) < tonumber(ARGV[4]) then
    redis.call('EXPIRE', KEYS[3], ARGV[4])
  end
  return 1
end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
return 0
"""


def _reduce_timezone(zone: dt.timezone) -> Any:
    # UTC by name: pickle otherwise rebuilds a timezone and a timedelta for every
    # datetime of the customer's row on every request.
    return "UTC" if zone is dt.UTC else zone.__reduce__()


class _Pickler(pickle.Pickler):
    dispatch_table = copyreg.dispatch_table | {dt.timezone: _reduce_timezone}


def _encode(session: bytes, snapshot: Snapshot | None) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, pickle.HIGHEST_PROTOCOL).dump(
        (FORMAT, session, tuple(snapshot) if snapshot else None)
    )
    return buffer.getvalue()


def _decode(raw: bytes) -> tuple[bytes, Snapshot | None] | None:
    """The session's pickle and the copy of the customer; None for anything else (an
    entry of another release: the session is then read from the database)."""
    try:
        entry = pickle.loads(raw)  # noqa: S301 - our own cache, as Django's cache pickles
    except Exception:  # noqa: BLE001 - a broken entry is a miss, as in Django's cached_db
        return None
    if not (isinstance(entry, tuple) and len(entry) == 3 and entry[0] == FORMAT):
        return None
    return entry[1], Snapshot(*entry[2]) if entry[2] else None


class SessionStore(CachedDBStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._redis = redis_cache(self._cache)  # type: ignore[attr-defined]  # Django's, unstubbed
        # The entry as this request last read or wrote it, the session's pickle in it,
        # and the copy of the customer it holds (or that save() is to write).
        self._entry: bytes | None = None
        self._session_bytes = b""
        self._snapshot: Snapshot | None = None

    @property
    def _made_key(self) -> str:
        # The key Django's cache (and so cached_db's delete) gives this entry.
        assert self._redis is not None  # noqa: S101 - only called with the Redis cache
        return self._redis.make_key(self.cache_key)

    def load(self) -> dict[str, Any]:
        redis = self._redis
        if redis is None:
            return super().load()
        key = self._made_key
        raw = redis.get_raw(key)
        decoded = _decode(raw) if raw is not None else None
        if decoded is not None:
            self._entry = raw
            self._session_bytes, self._snapshot = decoded
            data: dict[str, Any] = pickle.loads(self._session_bytes)  # noqa: S301
            return data
        stored = self._get_session_from_db()  # type: ignore[attr-defined]
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        self._write(key, data, None, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def user_snapshot(self, user_id: int) -> Snapshot | None:
        """The copy of the customer this session's entry holds, if it is theirs and fresh."""
        self._get_session()  # type: ignore[attr-defined]
        snapshot = self._snapshot
        return snapshot if snapshot is not None and snapshot.fresh(user_id) else None

    def user_snapshot_keep(self, snapshot: Snapshot) -> None:
        """Keeps a copy of the customer, loaded by this request, in the session's entry:
        now if the entry is unchanged and the customer's version has not moved, or when
        this request saves the session (under the same version check)."""
        self._snapshot = snapshot
        redis = self._redis
        if redis is None or self._entry is None or self.modified or not self.session_key:
            return
        new = _encode(self._session_bytes, snapshot)
        keys = [self._made_key, *snapshot_keys(redis, snapshot.user_id)]
        if redis.run_script(_KEEP, keys, [self._entry, snapshot.version, new]) == 1:
            self._entry = new

    def save(self, must_create: bool = False) -> None:
        if self._redis is None:
            return super().save(must_create)
        if self.session_key is None:
            return self.create()  # which saves with must_create
        DBStore.save(self, must_create)
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]
        snapshot = self._snapshot
        if snapshot is not None and data.get(SESSION_KEY) != str(snapshot.user_id):
            snapshot = None  # signed out, or in as someone else
        try:
            self._write(self._made_key, data, snapshot, self.get_expiry_age())
        except Exception:
            logger.exception("Error saving a session to the cache.")

    def _write(
        self, key: str, data: dict[str, Any], snapshot: Snapshot | None, seconds: int
    ) -> None:
        redis = self._redis
        assert redis is not None  # noqa: S101 - only called with the Redis cache
        self._session_bytes = pickle.dumps(data, pickle.HIGHEST_PROTOCOL)
        without = _encode(self._session_bytes, None)
        self._entry, self._snapshot = without, None
        if snapshot is None or seconds <= 0:
            redis.set_raw(key, without, seconds)
            return
        entry = _encode(self._session_bytes, snapshot)
        keys = [key, *snapshot_keys(redis, snapshot.user_id)]
        if redis.run_script(_SAVE, keys, [snapshot.version, entry, without, seconds]) == 1:
            self._entry, self._snapshot = entry, snapshot

    def clear(self) -> None:
        super().clear()
        self._snapshot = None

    def delete(self, session_key: str | None = None) -> None:
        super().delete(session_key)
        if session_key is None or session_key == self.session_key:
            self._entry, self._snapshot = None, None

    # Django's async variants read and write the entry in its own format.
    async def aload(self) -> dict[str, Any]:
        return await sync_to_async(self.load)()

    async def asave(self, must_create: bool = False) -> None:
        await sync_to_async(self.save)(must_create)
