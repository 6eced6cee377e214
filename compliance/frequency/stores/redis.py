"""`redis://host:port/db`: a store shared by several service instances.

One Lua script (``reserve.lua``) checks every cap of a send and increments them all, so the
check-then-record step is atomic across processes and machines. Keys are hash-tagged with
the recipient (``{recipient}``) so all keys of one send land in one Redis Cluster slot, and
each key expires when the last window that reads it closes. Times are the caller's (the
send's ``at``), never Redis's clock, so archives can be replayed through the same code.

The store is fail-closed: any Redis error raises `LedgerUnavailableError`; never "allowed".
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis as redis_client

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
        self.url = url
        self.prefix = prefix
        try:
            self._client = redis_client.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
            )
        except (ValueError, redis_client.RedisError) as exc:
            raise LedgerUnavailableError(f"cannot use Redis ledger {url!r}: {exc}") from exc
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
        keys: list[str] = []
        args: list[Any] = [
            "1" if record else "0",
            str(marker.ttl_us // 1000 + _TTL_SLACK_MS) if marker is not None else "0",
            str(len(checks)),
        ]
        for check in checks:
            ttl_ms = str(check.ttl_us // 1000 + _TTL_SLACK_MS)
            if check.rolling:
                keys.append(self._key(check))
                args += ["r", "1" if check.blocking else "0", str(check.limit), "1", ttl_ms,
                         str(check.at_us - check.window_us), str(check.at_us + check.window_us),
                         str(check.at_us), check.member,
                         # events this old can no longer share a window with any send that
                         # is at most one window late
                         str(check.at_us - 2 * check.window_us)]
            else:
                keys += [self._key(check, b) for b in check.buckets]
                args += ["c", "1" if check.blocking else "0", str(check.limit),
                         str(len(check.buckets)), ttl_ms, str(check.own + 1)]
        if marker is not None:
            keys.append(self._marker_key(marker))
        return keys, args

    @staticmethod
    def _evaluation(reply: list[Any]) -> Evaluation:
        return Evaluation(bool(reply[0]), tuple(tuple(int(v) for v in obs) for obs in reply[1:]))

    def evaluate(self, checks: Sequence[Check], *, record: bool, marker: Marker | None) -> Evaluation:
        keys, args = self._arguments(checks, record, marker)
        try:
            reply = self._reserve(keys=keys, args=args)
        except redis_client.RedisError as exc:
            raise LedgerUnavailableError(f"Redis ledger {self.url!r} failed: {exc}") from exc
        return self._evaluation(reply)

    def evaluate_many(self, items: Sequence[BatchItem]) -> list[Evaluation]:
        # One round trip: the scripts run one after another in order, so each send sees the
        # ones before it. Each send is atomic on its own; a batch is not one transaction
        # (a Redis Cluster could not run it as one anyway when recipients differ).
        if not items:
            return []
        try:
            pipe = self._client.pipeline(transaction=False)
            for checks, marker in items:
                keys, args = self._arguments(checks, True, marker)
                self._reserve(keys=keys, args=args, client=pipe)
            replies = pipe.execute()
        except redis_client.RedisError as exc:
            raise LedgerUnavailableError(f"Redis ledger {self.url!r} failed: {exc}") from exc
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
            raise LedgerUnavailableError(f"Redis ledger {self.url!r} failed: {exc}") from exc

    def close(self) -> None:
        self._client.close()
