"""Import limits. Each can be set in Django settings or, failing that, the environment."""

import environ
from django.conf import settings

_env = environ.Env()

_DEFAULTS = {
    # A file larger than this is refused before it is read.
    "IMPORT_MAX_BYTES": 200 * 1024 * 1024,
    # One cell larger than this is refused (it is usually an unclosed quote swallowing the file).
    "IMPORT_MAX_FIELD_CHARS": 100_000,
    # An XLSX whose parts unpack to more than this is refused (zip bomb).
    "IMPORT_MAX_UNPACKED_BYTES": 1024 * 1024 * 1024,
    "IMPORT_MAX_COMPRESSION_RATIO": 200,
    # How many problems a job keeps to show; the skipped-rows report holds every skipped row.
    "IMPORT_MAX_PROBLEMS_KEPT": 1000,
    # How many warnings (rows repeating another) a job keeps to show; the count has them all.
    "IMPORT_MAX_WARNINGS_KEPT": 20,
    # Rows per batch written to the database.
    "IMPORT_BATCH_ROWS": 20_000,
    # Processes normalizing batches of a big import beside the one reading and writing it.
    "IMPORT_WORKERS": 1,
    "IMPORT_PARALLEL_MIN_BYTES": 20 * 1024 * 1024,
    # Records in one API push.
    "IMPORT_MAX_PUSH_RECORDS": 10_000,
}


def limit(name: str) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = _env.int(name, default=_DEFAULTS[name])
    return int(value)
