"""Sharing rules, their audit log, and the overlap tally (imported by mapping.models).

A sharing rule says what the owner of one account list lets the *other* side of one partnership
see of it. No rule row means hidden: nothing is shared until the owner says so. The direction is
the list's: a list belongs to one side, so its rule always reads "owner -> the other side".
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Organization, Partnership
from prm.common.models import TimeStampedModel

# Record fields an owner may allow at "overlapping accounts" and "all accounts" (plus extra keys).
SHAREABLE_FIELDS = ("name", "domain", "owner_name", "owner_email", "stage", "industry", "region")
SHAREABLE_FIELD_LABELS = {
    "name": "Account name",
    "domain": "Domain",
    "owner_name": "Owner name",
    "owner_email": "Owner e-mail",
    "stage": "Stage",
    "industry": "Industry",
    "region": "Region",
}


class SharingLevel(models.TextChoices):
    HIDDEN = "hidden", "Hidden"
    COUNTS = "counts", "Counts only"
    OVERLAPS = "overlaps", "Overlapping accounts"
    ALL = "all", "All accounts (white space too)"


# Levels are ordered: each one shows everything the previous one shows.
LEVEL_RANK = {SharingLevel.HIDDEN: 0, SharingLevel.COUNTS: 1, SharingLevel.OVERLAPS: 2, SharingLevel.ALL: 3}


def levels_at_least(level: str) -> list[str]:
    return [name for name, rank in LEVEL_RANK.items() if rank >= LEVEL_RANK[level]]


class SharingRule(TimeStampedModel):
    """What the list's owner shows the other side of the partnership."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="sharing_rules")
    account_list = models.ForeignKey(
        "mapping.AccountList", on_delete=models.CASCADE, related_name="sharing_rules"
    )
    level = models.CharField(max_length=10, choices=SharingLevel.choices, default=SharingLevel.HIDDEN)
    # Allow-lists, honoured at "overlapping accounts" and "all accounts".
    fields = models.JSONField(default=list, blank=True)
    extra_fields = models.JSONField(default=list, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["partnership", "account_list"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "account_list"], name="sharingrule_one_per_list"),
            models.CheckConstraint(
                condition=Q(level__in=["hidden", "counts", "overlaps", "all"]), name="sharingrule_level_valid"
            ),
        ]

    def __str__(self):
        return f"{self.account_list_id} in {self.partnership_id}: {self.level}"

    def snapshot(self) -> dict:
        return {"level": self.level, "fields": list(self.fields), "extra_fields": list(self.extra_fields)}


HIDDEN_SNAPSHOT = {"level": SharingLevel.HIDDEN.value, "fields": [], "extra_fields": []}


class SharingRuleChange(models.Model):
    """Audit log: who changed which rule, when, from what, to what. Append-only; kept when the
    list goes (its name is copied)."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="sharing_rule_changes"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    account_list = models.ForeignKey(
        "mapping.AccountList", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    list_name = models.CharField(max_length=200)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["organization", "-changed_at"], name="sharingchange_org_recent")]

    def __str__(self):
        return f"{self.list_name}: {self.before.get('level')} -> {self.after.get('level')}"


class OverlapTally(models.Model):
    """The number of matched overlaps per partnership and list pair, kept by PostgreSQL triggers
    on the overlap table in the same transaction as the overlaps themselves (see migration 0003).

    Not a cache of anything shared: it holds raw counts; the sharing rules and private records
    are applied at every read. No foreign keys on purpose: rows of deleted lists are never read,
    and cascades must not fight the triggers. On other databases the counts are computed live.
    """

    partnership_id = models.BigIntegerField()
    left_list_id = models.BigIntegerField()
    right_list_id = models.BigIntegerField()
    matches = models.BigIntegerField(default=0)
    # Of those, the overlaps whose left / right record is private (also kept by the triggers, and
    # by a trigger on the records' private flag): a side's view subtracts the other side's.
    left_private = models.BigIntegerField(default=0)
    right_private = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partnership_id", "left_list_id", "right_list_id"], name="overlaptally_unique_pair"
            ),
        ]

    def __str__(self):
        return f"{self.left_list_id} x {self.right_list_id} in {self.partnership_id}: {self.matches}"
