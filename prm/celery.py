import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")


def _closed_redis_channel_raises_a_connection_error() -> None:
    """Keep the worker alive when Redis restarts while a late-acked task runs.

    Celery 5.7's consumer, on losing the broker, first collects the connection (which detaches the
    transport from its client) and then closes it; closing a Redis channel restores its unacked
    messages and so asks the detached transport for its host: AttributeError("'NoneType' object has
    no attribute 'hostname'"), which is not a connection error, so the worker dies ("Unrecoverable
    error") instead of reconnecting. A detached channel raises redis' ConnectionError here, which the
    consumer's cleanup ignores as it should; the unacked messages stay in Redis and are restored after
    the visibility timeout, and the match-run watchdog re-sends what was lost long before that.
    """
    try:
        from kombu.transport import redis as kombu_redis
        from redis.exceptions import ConnectionError as RedisConnectionError
    except ImportError:  # redis is not installed: nothing to guard
        return
    original = kombu_redis.Channel._connparams
    if getattr(original, "_prm_guarded", False):
        return

    def _connparams(self, asynchronous=False):
        if getattr(self.connection, "client", None) is None:
            raise RedisConnectionError("the broker connection of this channel is already closed")
        return original(self, asynchronous=asynchronous)

    _connparams._prm_guarded = True
    kombu_redis.Channel._connparams = _connparams


_closed_redis_channel_raises_a_connection_error()

app = Celery("prm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The mapping app keeps its tasks with its sub-packages.
app.autodiscover_tasks(["mapping.lists", "mapping.matching"])


# Every worker runs the match-run watchdog on a timer (mapping.matching.services.run_watch): in each pool
# process of a prefork worker (the main process forks, so it keeps no thread), in the worker itself
# with a solo or thread pool. Beat's schedule sends it as well; none of them is needed alone.
@worker_process_init.connect
def _watchdog_in_pool_process(**kwargs):
    from mapping.matching.services.run_watch import start_watchdog

    start_watchdog()


@worker_ready.connect
def _watchdog_in_worker(sender=None, **kwargs):
    pool = getattr(sender, "pool", None)
    if pool is not None and type(pool).__module__.endswith("prefork"):
        return
    from mapping.matching.services.run_watch import start_watchdog

    start_watchdog()
