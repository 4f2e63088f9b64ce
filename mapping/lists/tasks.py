"""The imports' Celery task. Its name is the one that queued messages carry, so it stays as it is."""

from celery import shared_task


@shared_task(name="mapping.tasks.run_import_job", acks_late=True)
def run_import_job(job_id: int) -> str:
    """Parse and commit one queued import. Safe to run twice: the service claims the job with a
    conditional UPDATE and leaves a job that is not queued alone."""
    from mapping.lists.services.imports import import_job_run

    job = import_job_run(job_id=job_id)
    return job.status if job is not None else "skipped"
