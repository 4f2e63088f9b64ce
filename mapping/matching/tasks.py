"""The match runs' Celery tasks. Each imports its service inside the function; the task names are
those that queued messages carry, so they stay as they are."""

from celery import shared_task


@shared_task(
    name="mapping.tasks.run_match", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None
)
def run_match(self, run_id: int) -> str:
    """Execute one match run. Safe to run twice: the run is claimed by a conditional UPDATE; a run
    whose partnership already has one running is retried a little later."""
    from mapping.matching.services.runs import match_run_execute

    outcome = match_run_execute(run_id=run_id)
    if outcome == "busy":
        raise self.retry(countdown=5)
    return outcome


@shared_task(name="mapping.tasks.reap_match_runs")
def reap_match_runs() -> int:
    """Re-queue runs whose worker died (no heartbeat for MATCH_RUN_STALE_SECONDS)."""
    from mapping.matching.services.runs import match_runs_reap

    return match_runs_reap()


@shared_task(name="mapping.tasks.score_match_block", acks_late=True, reject_on_worker_lost=True)
def score_match_block(block_id: int) -> str:
    """Score one block of a large list pair (a chord header task; safe to run twice)."""
    from mapping.matching.services.runs import match_block_score

    return match_block_score(block_id=block_id)


@shared_task(name="mapping.tasks.finish_match_run", acks_late=True)
def finish_match_run(run_id: int, attempt: int) -> str:
    """Merge the scored blocks and finish the run (the chord's body; safe to run twice)."""
    from mapping.matching.services.runs import match_run_finish

    return match_run_finish(run_id=run_id, attempt=attempt)


@shared_task(name="mapping.tasks.train_match_model", acks_late=True)
def train_match_model(partnership_id: int) -> str:
    """Fit a partnership's scoring model as requested by match_model_train (idempotent: a model
    no longer queued or running is left alone)."""
    from mapping.matching.services.review import match_model_fit

    return match_model_fit(partnership_id)
