from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Organization
from prm.common.models import TimeStampedModel


class AccountList(TimeStampedModel):
    """One organization's population of accounts: customers, prospects, open opportunities, or a
    custom segment defined by filters over another of its lists."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", "Customers"
        PROSPECTS = "prospects", "Prospects"
        OPPORTUNITIES = "opportunities", "Open opportunities"
        CUSTOM = "custom", "Custom segment"

    class Source(models.TextChoices):
        FILE = "file", "File upload"
        API = "api", "API push"
        SEGMENT = "segment", "Segment of another list"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="account_lists")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CUSTOMERS)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FILE)
    # Custom segments: the list they filter and the filters ({"country": ["DE"], "industry": [...]}).
    base_list = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="segments"
    )
    filters = models.JSONField(default=dict, blank=True)
    # Remembered {field: header} of the last confirmed import, proposed again for the next file.
    column_mapping = models.JSONField(default=dict, blank=True)
    last_import = models.ForeignKey(
        "ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_changed_at = models.DateTimeField(null=True, blank=True)
    record_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="accountlist_unique_name_per_org"),
            models.CheckConstraint(
                condition=Q(kind="custom", base_list__isnull=False)
                | (~Q(kind="custom") & Q(base_list__isnull=True)),
                name="accountlist_custom_has_base",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.organization})"

    @property
    def is_segment(self) -> bool:
        return self.kind == self.Kind.CUSTOM


class AccountRecord(models.Model):
    """One account of a list: raw values as the CRM gave them, normalized keys beside them (what
    the matching engine reads; computed at ingest by mapping.engine.normalize)."""

    account_list = models.ForeignKey(AccountList, on_delete=models.CASCADE, related_name="records")
    # Identity within the list: the CRM id, or "#" + a hash of the row for files without ids.
    key = models.CharField(max_length=255)
    # Hash of every stored raw value: a re-import that changes nothing leaves the record alone.
    row_hash = models.CharField(max_length=32)

    name = models.CharField(max_length=500)
    website = models.CharField(max_length=500, blank=True)
    domain = models.CharField(max_length=255, blank=True)
    country = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=40, blank=True)
    industry = models.CharField(max_length=200, blank=True)
    owner_name = models.CharField(max_length=200, blank=True)
    owner_email = models.CharField(max_length=254, blank=True)
    crm_id = models.CharField(max_length=255, blank=True)
    stage = models.CharField(max_length=100, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    private = models.BooleanField(default=False, help_text="Never shown to partners.")

    name_norm = models.CharField(max_length=500, blank=True)
    domain_norm = models.CharField(max_length=255, blank=True)
    email_domain_norm = models.CharField(max_length=255, blank=True)
    stem = models.CharField(max_length=255, blank=True)
    country_norm = models.CharField(max_length=2, blank=True)
    region_norm = models.CharField(max_length=100, blank=True)
    city_norm = models.CharField(max_length=100, blank=True)
    postal_norm = models.CharField(max_length=40, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["account_list", "key"], name="accountrecord_unique_key_per_list"),
        ]
        indexes = [models.Index(fields=["account_list", "crm_id"], name="accountrecord_list_crm_id")]

    def __str__(self):
        return self.name


class ImportJob(TimeStampedModel):
    """One import of a file (or one API push) into a list: what came in, how it went, what changed."""

    class Status(models.TextChoices):
        AWAITING_MAPPING = "awaiting_mapping", "Waiting for the column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Imported"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        REPLACE = "replace", "Replace: records absent from the file are removed"
        MERGE = "merge", "Merge: add and update by CRM id, remove nothing"

    class Source(models.TextChoices):
        PORTAL = "portal", "Portal"
        API = "api", "API"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Management command"

    FINISHED = (Status.SUCCEEDED, Status.FAILED)

    account_list = models.ForeignKey(AccountList, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PORTAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_MAPPING)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.REPLACE)
    skip_invalid_rows = models.BooleanField(default=False)

    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=10, blank=True)  # csv, xlsx, json
    file_size = models.BigIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True, db_index=True)  # SHA-256 of the file
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    headers = models.JSONField(default=list, blank=True)
    column_mapping = models.JSONField(default=dict, blank=True)

    progress = models.PositiveSmallIntegerField(default=0)  # percent
    rows_total = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    # Rows repeating an earlier row of the same file: its CRM id (a problem: skipped or refused)
    # or, without a CRM id, its whole content (imported once).
    rows_duplicate = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    edited = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # [{"row": 12, "column": "Account Name", "message": "..."}], the first IMPORT_MAX_PROBLEMS_KEPT.
    problems = models.JSONField(default=list, blank=True)
    problem_count = models.PositiveIntegerField(default=0)
    # [{"row": 9, "column": None, "message": "..."}]: what was imported but worth a look (rows
    # repeating another), the first IMPORT_MAX_WARNINGS_KEPT.
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    skipped_report = models.FileField(upload_to="imports/reports/%Y/%m/", max_length=300, blank=True)
    changeset = models.OneToOneField(
        "ListChangeSet", on_delete=models.SET_NULL, null=True, blank=True, related_name="import_job"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account_list", "-created_at"], name="importjob_list_recent")]

    def __str__(self):
        return f"Import #{self.pk} into {self.account_list.name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ListChangeSet(models.Model):
    """What one committed change did to a list: the ids of the records it added, edited and
    removed. Matching re-matches only these."""

    account_list = models.ForeignKey(AccountList, on_delete=models.CASCADE, related_name="changesets")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    added_ids = models.JSONField(default=list, blank=True)
    edited_ids = models.JSONField(default=list, blank=True)
    removed_ids = models.JSONField(default=list, blank=True)
    added_count = models.PositiveIntegerField(default=0)
    edited_count = models.PositiveIntegerField(default=0)
    removed_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"+{self.added_count} ~{self.edited_count} -{self.removed_count} on {self.account_list_id}"

    @property
    def is_empty(self) -> bool:
        return not (self.added_count or self.edited_count or self.removed_count)
