from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from mapping.lists.services.imports import import_job_create
from mapping.models import AccountList, ImportJob
from prm.common.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file into an account list, in this process. LIST is the list's id. "
        "Columns are recognized (or the list's remembered mapping is used)."
    )

    def add_arguments(self, parser):
        parser.add_argument("list", help="Account list id")
        parser.add_argument("file", help="Path of the CSV or XLSX file")
        parser.add_argument("--mode", choices=ImportJob.Mode.values, default=ImportJob.Mode.REPLACE)
        parser.add_argument("--skip-invalid-rows", action="store_true")
        parser.add_argument(
            "--as",
            dest="as_user",
            default="",
            help="E-mail of the member to import as (their role is checked); by default a trusted system import.",
        )

    def handle(self, *args, **options):
        try:
            account_list = AccountList.objects.select_related("organization").get(pk=int(options["list"]))
        except (AccountList.DoesNotExist, ValueError):
            raise CommandError(f"No account list with id {options['list']!r}.") from None
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        actor = None
        if options["as_user"]:
            actor = User.objects.filter(email__iexact=options["as_user"]).first()
            if actor is None:
                raise CommandError(f"No user {options['as_user']!r}.")

        try:
            with path.open("rb") as fh:
                job = import_job_create(
                    actor=actor,
                    account_list=account_list,
                    file=File(fh, name=path.name),
                    filename=path.name,
                    source=ImportJob.Source.COMMAND,
                    mode=options["mode"],
                    skip_invalid_rows=options["skip_invalid_rows"],
                    start=True,
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        job.refresh_from_db()
        if job.status == ImportJob.Status.QUEUED:  # a broker is configured: run it here all the same
            from mapping.lists.services.imports import import_job_run

            import_job_run(job_id=job.pk)
            job.refresh_from_db()
        if job.status != ImportJob.Status.SUCCEEDED:
            for problem in job.problems[:20]:
                self.stderr.write(
                    f"  row {problem.get('row')}, column {problem.get('column')}: {problem.get('message')}"
                )
            raise CommandError(job.error or f"Import #{job.pk} did not finish ({job.status}).")
        self.stdout.write(
            f"Import #{job.pk}: {job.rows_imported} rows, {job.added} added, {job.edited} edited, "
            f"{job.removed} removed, {job.unchanged} unchanged, {job.rows_skipped} skipped"
            + (f", {job.rows_duplicate} repeating an earlier row." if job.rows_duplicate else ".")
        )
