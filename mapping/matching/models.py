"""Match runs, overlaps and review decisions (imported by mapping.models).

Orientation: in every overlap the *left* record belongs to the partnership's initiator and the
*right* record to its partner, whichever side asked for the run.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Partnership
from prm.common.models import TimeStampedModel


class MatchRun(TimeStampedModel):
    """One execution of the matching engine for a partnership: all its list pairs, fully or only
    what changed since the last run."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="match_runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INCREMENTAL)
    trigger = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Change sets folded into this run while it waited (debounce): {list_id: [changeset ids]}.
    changesets = models.JSONField(default=list, blank=True)
    # What the run read: {list_id: newest change set id}, every change set of that list up to it
    # (and none after it) is in the records the run matched. Later ones lead to a follow-up run.
    covered = models.JSONField(default=dict, blank=True)
    # When the worker should take a queued run (its countdown); the watchdog re-sends it past this.
    due_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)

    progress = models.PositiveSmallIntegerField(default=0)  # percent
    list_pairs = models.PositiveIntegerField(default=0)
    list_pairs_done = models.PositiveIntegerField(default=0)
    left_records = models.PositiveIntegerField(default=0)
    right_records = models.PositiveIntegerField(default=0)
    records_rematched = models.PositiveIntegerField(default=0)
    matches = models.PositiveIntegerField(default=0)
    review = models.PositiveIntegerField(default=0)
    overlaps_added = models.PositiveIntegerField(default=0)
    overlaps_removed = models.PositiveIntegerField(default=0)
    overlaps_updated = models.PositiveIntegerField(default=0)
    timings = models.JSONField(default=dict, blank=True)  # seconds: load, engine, write
    error = models.TextField(blank=True)

    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Debounce: changes arriving while a run waits fold into it; one runs at a time.
            models.UniqueConstraint(
                fields=["partnership"], condition=Q(status="queued"), name="matchrun_one_queued"
            ),
            models.UniqueConstraint(
                fields=["partnership"], condition=Q(status="running"), name="matchrun_one_running"
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="matchrun_status_heartbeat")]

    def __str__(self):
        return f"Match run #{self.pk} for {self.partnership_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_stuck(self) -> bool:
        """Past its expected time: queued well after its start time, or running with no heartbeat."""
        now = timezone.now()
        stale_before = now - timedelta(seconds=settings.MATCH_RUN_STALE_SECONDS)
        if self.status == self.Status.QUEUED:
            due = self.due_at or self.created_at
            if due is None or due >= now - timedelta(seconds=settings.MATCH_QUEUED_GRACE_SECONDS):
                return False
            # Waiting behind a live run of its partnership is not stuck: it goes next.
            return not MatchRun.objects.filter(
                partnership_id=self.partnership_id, status=self.Status.RUNNING, heartbeat_at__gte=stale_before
            ).exists()
        if self.status == self.Status.RUNNING:
            beat = self.heartbeat_at or self.started_at
            if beat is not None and beat >= stale_before:
                return False
            # A fanned-out run beats when its blocks are scored: it has longer (see run_watch).
            fanout_before = now - timedelta(seconds=settings.MATCH_FANOUT_STALE_SECONDS)
            waiting = self.blocks.filter(attempt=self.attempts, result__isnull=True).exists()
            return beat is None or not waiting or beat < fanout_before
        return False


class Overlap(models.Model):
    """A matched pair of account records, one from each side of a partnership."""

    class Status(models.TextChoices):
        MATCH = "match", "Match"
        REVIEW = "review", "Needs review"

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="overlaps")
    left_list = models.ForeignKey("mapping.AccountList", on_delete=models.CASCADE, related_name="+")
    right_list = models.ForeignKey("mapping.AccountList", on_delete=models.CASCADE, related_name="+")
    left_record = models.ForeignKey("mapping.AccountRecord", on_delete=models.CASCADE, related_name="+")
    right_record = models.ForeignKey("mapping.AccountRecord", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.MATCH)
    reasons = models.TextField(blank=True)
    confirmed = models.BooleanField(default=False, help_text="Confirmed by a reviewer.")
    run = models.ForeignKey(MatchRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "left_record", "right_record"], name="overlap_unique_pair"
            ),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="overlap_score_range"),
        ]
        indexes = [
            models.Index(fields=["partnership", "left_list", "right_list", "status"], name="overlap_matrix"),
            models.Index(fields=["partnership", "status", "-score", "id"], name="overlap_by_score_id"),
            models.Index(fields=["left_record"], name="overlap_left_record"),
            models.Index(fields=["right_record"], name="overlap_right_record"),
        ]

    def __str__(self):
        return f"{self.left_record_id} ⇄ {self.right_record_id} ({self.score:.2f})"


class MatchDecision(TimeStampedModel):
    """The reviewers' word on a pair as the engine applies it in every later run: "rejected" once
    either side rejected it (the pair is dropped), "confirmed" once both sides confirmed it (an
    overlap whatever its score). Kept by mapping.matching.services.review from the sides' own words
    (SideDecision): one side's confirmation alone is no decision, and reveals nothing."""

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed: same company"
        REJECTED = "rejected", "Rejected: different companies"

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="match_decisions")
    left_record = models.ForeignKey("mapping.AccountRecord", on_delete=models.CASCADE, related_name="+")
    right_record = models.ForeignKey("mapping.AccountRecord", on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_by_organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "left_record", "right_record"], name="matchdecision_unique_pair"
            ),
        ]

    def __str__(self):
        return f"{self.left_record_id} ⇄ {self.right_record_id}: {self.decision}"


class SideDecision(TimeStampedModel):
    """One side's reviewer's word on a pair (each side has its own); MatchDecision is what both
    sides' words add up to."""

    class Side(models.TextChoices):
        INITIATOR = "initiator", "The initiator"
        PARTNER = "partner", "The partner"

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="side_decisions")
    left_record = models.ForeignKey("mapping.AccountRecord", on_delete=models.CASCADE, related_name="+")
    right_record = models.ForeignKey("mapping.AccountRecord", on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    decision = models.CharField(max_length=10, choices=MatchDecision.Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_by_organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "left_record", "right_record", "side"],
                name="sidedecision_one_per_side",
            ),
            models.CheckConstraint(
                condition=Q(side__in=["initiator", "partner"]), name="sidedecision_side_valid"
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["confirmed", "rejected"]), name="sidedecision_decision_valid"
            ),
        ]

    def __str__(self):
        return f"{self.left_record_id} ⇄ {self.right_record_id}: {self.decision} ({self.side})"


class MatchState(models.Model):
    """The engine's memory of one list pair (the score of every candidate pair), kept so that the
    next run re-scores only what changed. Written only by our own workers, as plain data
    (mapping.engine.codec, never a pickle); a row that does not read so means "match in full"."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    left_list = models.ForeignKey("mapping.AccountList", on_delete=models.CASCADE, related_name="+")
    right_list = models.ForeignKey("mapping.AccountList", on_delete=models.CASCADE, related_name="+")
    # The newest change set of each list folded into the state: later ones are still to apply.
    left_changeset_id = models.BigIntegerField(default=0)
    right_changeset_id = models.BigIntegerField(default=0)
    engine_version = models.CharField(max_length=40)
    data = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "left_list", "right_list"], name="matchstate_unique_pair"
            ),
        ]

    def __str__(self):
        return f"State of lists {self.left_list_id} x {self.right_list_id}"


class MatchBlockJob(models.Model):
    """One block of a large list pair, fanned out to the workers by a Celery chord: the candidate
    pairs it scores (arrays) and, once done, its scored pairs, both as plain data (mapping.engine.codec)."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="blocks")
    attempt = models.PositiveSmallIntegerField()  # the run's attempt that cut this block
    left_list = models.ForeignKey("mapping.AccountList", on_delete=models.CASCADE, related_name="+")
    right_list = models.ForeignKey("mapping.AccountList", on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField()
    pairs = models.BinaryField()
    result = models.BinaryField(null=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "attempt", "left_list", "right_list", "index"], name="matchblockjob_unique"
            ),
        ]

    def __str__(self):
        return f"Block {self.index} of run {self.run_id}"


def _threshold_range(prefix: str) -> Q:
    threshold, review = f"{prefix}_threshold", f"{prefix}_review_threshold"
    return (
        Q(**{f"{threshold}__isnull": True}) | (Q(**{f"{threshold}__gt": 0}) & Q(**{f"{threshold}__lte": 1}))
    ) & (Q(**{f"{review}__isnull": True}) | (Q(**{f"{review}__gte": 0}) & Q(**{f"{review}__lte": 1})))


class MatchSettings(models.Model):
    """A partnership's matching thresholds, one pair per side, and its scoring model.

    Each side's thresholds bound only how its *own* records are revealed: a pair is an overlap (or
    waits for review) only at or above both sides' thresholds, so the engine runs at the higher of
    the two (effective_thresholds). Lowering mine never shows me more than the partner's own bar
    allows. Unset values fall back to the site-wide settings.

    The scoring model decides for both sides, so it changes only when both sides asked for the
    same change (model_requests: {"initiator"|"partner": {"method": ..., "sample": ...}}).
    """

    partnership = models.OneToOneField(Partnership, on_delete=models.CASCADE, related_name="match_settings")
    initiator_threshold = models.FloatField(null=True, blank=True)
    initiator_review_threshold = models.FloatField(null=True, blank=True)
    partner_threshold = models.FloatField(null=True, blank=True)
    partner_review_threshold = models.FloatField(null=True, blank=True)
    model = models.BinaryField(null=True, blank=True)  # the engine's ScoringModel, serialized
    trained_on = models.PositiveIntegerField(default=0)  # labelled pairs behind the model
    trained_at = models.DateTimeField(null=True, blank=True)
    # What each side asked of the model (train labelled / unsupervised, reset) and not yet done.
    model_requests = models.JSONField(default=dict, blank=True)
    # Training runs on a worker: requested here, fitted by mapping.tasks.train_match_model.
    training = models.CharField(max_length=10, blank=True, default="")  # "", queued, running, failed
    training_method = models.CharField(max_length=20, blank=True, default="")
    training_sample = models.PositiveIntegerField(default=0)
    training_error = models.TextField(blank=True, default="")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    SIDES = ("initiator", "partner")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=_threshold_range("initiator") & _threshold_range("partner"),
                name="matchsettings_side_thresholds_in_range",
            ),
        ]

    def __str__(self):
        return f"Match settings of {self.partnership_id}"

    @property
    def threshold(self) -> float:
        """The match threshold the engine runs at (mapping.matching.services.runs.engine_config)."""
        return self.effective_thresholds(settings.MATCH_THRESHOLD, settings.MATCH_REVIEW_THRESHOLD)[0]

    @property
    def review_threshold(self) -> float:
        """The review threshold the engine runs at."""
        return self.effective_thresholds(settings.MATCH_THRESHOLD, settings.MATCH_REVIEW_THRESHOLD)[1]

    def thresholds_of(self, side: str, default: float, default_review: float) -> tuple[float, float]:
        """One side's (threshold, review threshold), the site-wide defaults where unset."""
        threshold = getattr(self, f"{side}_threshold")
        review = getattr(self, f"{side}_review_threshold")
        threshold = default if threshold is None else threshold
        review = default_review if review is None else review
        return threshold, min(review, threshold)

    def effective_thresholds(self, default: float, default_review: float) -> tuple[float, float]:
        """What the engine runs at: the higher bar of the two sides, for matches and for review."""
        bars = [self.thresholds_of(side, default, default_review) for side in self.SIDES]
        return max(b[0] for b in bars), max(b[1] for b in bars)
