"""`redis://host:port/db`: a store shared by several service instances.

One Lua script (``reserve.lua``) checks every cap of a send and increments them all, so the
check-then-record step is atomic across processes and machines. Keys are hash-tagged with
the recipient (``{recipient}``) so all keys of one send land in one Redis Cluster slot, and
each key expires when the last window that reads it closes. Times are the caller's (the
send's ``at``), never Redis's clock, so archives can be replayed through the same code.

The store is fail-closed: any Redis error raises `LedgerUnavailableError`; never "allowed".
A command is never retried: a reservation whose reply was lost (the connection broke or timed
out after the script was sent) may have been counted once, and is never counted twice — a
retry could not know whether the first attempt ran. The caller got an error, so it did not
send: the ledger can over-count such a send by one, never under-count. Every command is
bounded by ``socket_timeout`` (5 s; ``?socket_timeout=SECONDS`` in the URL), so a server that
accepts but never answers (stopped, overloaded, a black-holed route) fails the call instead
of hanging it. After a fault the next call reconnects: a restarted server is used again
without reopening the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis as redis_client
from hiredis import pack_command
from redis.backoff import NoBackoff
from redis.retry import Retry

from compliance.frequency.errors import LedgerUnavailableError
from compliance.frequency.plan import Check
from compliance.frequency.stores.base import BatchItem, Evaluation, Marker, Store

# Keys outlive their windows by this much, so a count read just before expiry and a send
# recorded just after (clocks differ between hosts) never disagree.
_TTL_SLACK_MS = 60_000


def _script(name: str) -> str:
    return resources.files("compliance.frequency").joinpath(name).read_text(encoding="utf-8")


class RedisStore(Store):
    """Counts in Redis (single node; keys are cluster-ready, see module docstring).

    Args:
        url: ``redis://[:password@]host:port/db`` (``rediss://`` for TLS).
        prefix: prepended to every key, so one Redis can hold several ledgers.
        socket_timeout: seconds before an unanswered command fails (fail-closed).
    """

    def __init__(self, url: str, *, prefix: str = "freq:", socket_timeout: float = 5.0) -> None:
        self.url = redact(url)  # for messages and logs: never the password
        self.prefix = prefix
        try:
            self._client = redis_client.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout,
                # No retry (redis-py would re-send a script whose reply was lost: counted twice).
                retry=Retry(NoBackoff(), 0), retry_on_error=[],
            )
        except (ValueError, TypeError, redis_client.RedisError) as exc:
            raise LedgerUnavailableError(f"cannot use Redis ledger {self.url!r}: {exc}") from exc
        # A ``?socket_timeout=`` in the URL wins over the argument, and bounds connecting too
        # unless the URL also sets ``socket_connect_timeout``.
        kwargs = self._client.connection_pool.connection_kwargs
        self.socket_timeout = float(kwargs.get("socket_timeout") or socket_timeout)
        if "socket_connect_timeout=" not in url:
            kwargs["socket_connect_timeout"] = self.socket_timeout
        self._reserve = self._client.register_script(_script("reserve.lua"))
        self._release = self._client.register_script(_script("release.lua"))

    def _key(self, check: Check, bucket: int | None = None) -> str:
        base = f"{self.prefix}{{{check.tag}}}:{check.key}"
        return base if bucket is None else f"{base}:{bucket}"

    def _marker_key(self, marker: Marker) -> str:
        return f"{self.prefix}{{{marker.tag}}}:res:{marker.token}"

    def _arguments(
        self, checks: Sequence[Check], record: bool, marker: Marker | None
    ) -> tuple[list[str], list[Any]]:
        # Built for every send of every batch: ints go as they are (redis-py and hiredis
        # encode them), each key from one f-string.
        prefix = self.prefix
        keys: list[str] = []
        args: list[Any] = [
            1 if record else 0,
            marker.ttl_us // 1000 + _TTL_SLACK_MS if marker is not None else 0,
            len(checks),
        ]
        for check in checks:
            base = f"{prefix}{{{check.tag}}}:{check.key}"
            ttl_ms = check.ttl_us // 1000 + _TTL_SLACK_MS
            if check.rolling:
                at_us, window_us = check.at_us, check.window_us
                keys.append(base)
                args += ["r", 1 if check.blocking else 0, check.limit, 1, ttl_ms,
                         at_us - window_us, at_us + window_us, at_us, check.member,
                         # events this old can no longer share a window with any send that
                         # is at most one window late
                         at_us - 2 * window_us]
            else:
                buckets = check.buckets
                for bucket in buckets:
                    keys.append(f"{base}:{bucket}")
                args += ["c", 1 if check.blocking else 0, check.limit, len(buckets), ttl_ms, check.own + 1]
        if marker is not None:
            keys.append(self._marker_key(marker))
        return keys, args

    @staticmethod
    def _evaluation(reply: list[Any]) -> Evaluation:
        return Evaluation(bool(reply[0]), tuple([tuple(map(int, obs)) for obs in reply[1:]]))

    def evaluate(self, checks: Sequence[Check], *, record: bool, marker: Marker | None) -> Evaluation:
        keys, args = self._arguments(checks, record, marker)
        try:
            reply = self._reserve(keys=keys, args=args)
        except redis_client.RedisError as exc:
            raise self._failure("reserve" if record else "peek", exc) from exc
        return self._evaluation(reply)

    def evaluate_many(self, items: Sequence[BatchItem]) -> list[Evaluation]:
        # One round trip: the scripts run one after another in order, so each send sees the
        # ones before it. Each send is atomic on its own; a batch is not one transaction
        # (a Redis Cluster could not run it as one anyway when recipients differ).
        #
        # The commands are packed by hiredis directly (it takes str and int as they are):
        # redis-py's pipeline would first encode every argument in Python, half of the
        # client's time for a batch. The stream starts with SCRIPT LOAD (a no-op but for a
        # hash when the server has the script), so a server that lost its scripts (a restart,
        # SCRIPT FLUSH) loads it again before the first EVALSHA, in the same round trip.
        if not items:
            return []
        reserve = self._reserve
        chunks = [pack_command(("SCRIPT", "LOAD", reserve.script))]
        evalsha, sha = "EVALSHA", reserve.sha
        for checks, marker in items:
            keys, args = self._arguments(checks, True, marker)
            chunks.append(pack_command((evalsha, sha, len(keys), *keys, *args)))
        pool = self._client.connection_pool
        try:
            connection = pool.get_connection()
        except redis_client.RedisError as exc:
            raise self._failure(f"reserve_many of {len(items)} send(s)", exc) from exc
        try:
            connection.send_packed_command([b"".join(chunks)])
            connection.read_response()
            replies = [connection.read_response() for _ in items]
        except redis_client.RedisError as exc:
            # Replies may be left unread on the socket: never reuse this connection.
            connection.disconnect()
            raise self._failure(f"reserve_many of {len(items)} send(s)", exc) from exc
        finally:
            pool.release(connection)
        return [self._evaluation(reply) for reply in replies]

    def release(self, marker: Marker, checks: Sequence[Check]) -> bool:
        keys = [self._marker_key(marker)]
        args: list[str] = []
        for check in checks:
            if check.rolling:
                keys.append(self._key(check))
                args += ["r", check.member]
            else:
                keys.append(self._key(check, check.buckets[check.own]))
                args += ["c", ""]
        try:
            return bool(self._release(keys=keys, args=args))
        except redis_client.RedisError as exc:
            raise self._failure("release", exc) from exc

    def ping(self) -> None:
        """One PING: connects (bounded by the socket timeout) and checks the server answers."""
        try:
            self._client.ping()
        except redis_client.RedisError as exc:
            raise self._failure("ping", exc, outcome="nothing was recorded") from exc

    def _failure(
        self, action: str, exc: redis_client.RedisError, outcome: str | None = None
    ) -> LedgerUnavailableError:
        """The error for a failed command: which store, what was asked, what went wrong."""
        if isinstance(exc, redis_client.TimeoutError):
            what = f"got no answer within the {self.socket_timeout:g} s socket timeout"
        elif isinstance(exc, redis_client.ConnectionError):
            what = "could not reach Redis or lost the connection"
        else:
            what = "was refused by Redis"
        if outcome is None and isinstance(exc, (redis_client.ConnectionError, redis_client.TimeoutError)):
            outcome = ("nothing was decided; a request that reached Redis before the failure "
                       "may have been counted once, never twice")
        elif outcome is None:
            outcome = "nothing was decided or recorded"
        return LedgerUnavailableError(
            f"Redis ledger {self.url!r}: {action} {what} ({type(exc).__name__}: {exc}); {outcome}"
        )

    def close(self) -> None:
        self._client.close()


def redact(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))
