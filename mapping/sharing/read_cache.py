"""Cached reads of the overlap matrix and the overlap pages, keyed by the data they came from.

Every change to what such a read is made of bumps a read stamp in the same transaction
(PostgreSQL triggers, migration 0009): the partnership's (overlaps, sharing rules, its status)
and each side's organization's (lists, records and their private flags, its name). A read takes
the stamps first and computes after, so a result is never newer-keyed than its data; it is kept
under a key made of the stamps and of everything else it depends on (caller, request). A revoked
rule, a private account, a re-run match or an ended partnership therefore changes the key: the next
request computes afresh, as if nothing were cached.

Not cached: anywhere but PostgreSQL (no stamps), with READ_CACHE off, and inside a transaction
that has written anything (it must read its own writes, which are stamped only when it commits).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection

from accounts.models import Partnership

ALIAS = "reads"
logger = logging.getLogger(__name__)


def enabled() -> bool:
    return connection.vendor == "postgresql" and settings.READ_CACHE


def stamp_keys(partnership: Partnership) -> list[str]:
    return ["g", f"p{partnership.pk}", f"o{partnership.initiator_id}", f"o{partnership.partner_id}"]


def stamps(keys: list[str]) -> tuple | None:
    """The versions of these stamps; None inside a transaction that has written anything (it reads
    live: its changes are not stamped before it commits, and may never be)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, version FROM mapping_readstamp WHERE key = ANY(%s) "
            "UNION ALL SELECT '', -1 WHERE txid_current_if_assigned() IS NOT NULL",
            [keys],
        )
        found = dict(cursor.fetchall())
    if "" in found:
        return None
    return tuple(found.get(key, 0) for key in keys)


def cached(name: str, *, partnership: Partnership, parts: tuple, compute: Callable[[], Any]) -> Any:
    """compute(), or what it gave for the same name, parts and stamps. `parts` must hold every
    input of compute() besides the stamped data: the caller's organization and user where they
    matter, the request's parameters."""
    if not enabled():
        return compute()
    keys = stamp_keys(partnership)
    versions = stamps(keys)  # before computing: the result is at least as new as these
    if versions is None:
        return compute()
    digest = hashlib.sha256(repr((name, partnership.pk, parts, keys, versions)).encode()).hexdigest()
    key = f"read:{name}:{digest}"
    cache = caches[ALIAS]
    try:
        value = cache.get(key)
    except Exception:  # the cache is a shortcut: when its server is down, compute
        logger.warning("read cache unavailable", exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, settings.READ_CACHE_SECONDS)
        except Exception:
            logger.warning("read cache unavailable", exc_info=True)
    return value


def clear() -> None:
    caches[ALIAS].clear()
