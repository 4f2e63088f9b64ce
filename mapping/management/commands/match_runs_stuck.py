"""List match runs stuck past their expected time, and re-send them.

    python manage.py match_runs_stuck            # list them
    python manage.py match_runs_stuck --resend   # re-claim the silent running ones, re-send the queued ones

A run is stuck when it is queued MATCH_QUEUED_GRACE_SECONDS past its due time (its message was lost,
e.g. with a Redis restart) or running with no heartbeat for MATCH_RUN_STALE_SECONDS (its worker
died). The workers' watchdog does the same by itself every MATCH_WATCHDOG_SECONDS; this is for an
operator who wants to see it, or for a deployment that runs no worker watchdog.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from mapping.matching.services.run_watch import match_runs_watch, stuck_runs


class Command(BaseCommand):
    help = "List match runs stuck past their expected time; --resend re-claims and re-sends them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--resend", action="store_true", help="re-claim silent running runs, re-send queued ones"
        )

    def handle(self, *args, **options):
        now = timezone.now()
        runs = list(stuck_runs())
        if not runs:
            self.stdout.write("No stuck match runs.")
        for run in runs:
            since = run.heartbeat_at if run.status == run.Status.RUNNING else (run.due_at or run.created_at)
            age = f"{(now - since).total_seconds():.0f}s" if since else "never"
            what = "no heartbeat for" if run.status == run.Status.RUNNING else "past its start by"
            self.stdout.write(
                f"run {run.pk}  partnership {run.partnership_id}  {run.status}  {what} {age}  "
                f"attempts {run.attempts}  trigger {run.trigger!r}"
            )
        if options["resend"]:
            outcome = match_runs_watch(resend_all_queued=True)
            if outcome["skipped"]:
                self.stdout.write("A worker's watchdog is at it right now; try again in a few seconds.")
            else:
                self.stdout.write(
                    f"Re-claimed {outcome['reclaimed']} running run(s), re-sent {outcome['resent']} "
                    "queued run(s)."
                )
