"""Per-side thresholds and decisions: each side's thresholds bound how its own records are
revealed (the engine runs at the higher bar), each side has its own word on a pair
(SideDecision; MatchDecision becomes what both words add up to), and the scoring model changes
only when both sides asked for the same change.

Existing thresholds were the partnership's: both sides keep them (nothing shows more than
before). Existing decisions become the word of the side that made them; a confirmation that only
one side made is no decision any more, and the overlap it made is dropped (the next run keeps it
if the engine's score clears both sides' bars)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q


def _sides(apps, schema_editor):
    MatchSettings = apps.get_model("mapping", "MatchSettings")
    MatchDecision = apps.get_model("mapping", "MatchDecision")
    SideDecision = apps.get_model("mapping", "SideDecision")
    Overlap = apps.get_model("mapping", "Overlap")
    for own in MatchSettings.objects.all():
        own.partner_threshold, own.partner_review_threshold = own.initiator_threshold, own.initiator_review_threshold
        own.save(update_fields=["partner_threshold", "partner_review_threshold"])
    for decision in MatchDecision.objects.select_related("partnership"):
        by = decision.decided_by_organization_id
        SideDecision.objects.create(
            partnership_id=decision.partnership_id, left_record_id=decision.left_record_id,
            right_record_id=decision.right_record_id, decision=decision.decision, note=decision.note,
            side="partner" if by is not None and by == decision.partnership.partner_id else "initiator",
            decided_by_id=decision.decided_by_id, decided_by_organization_id=by,
        )
        if decision.decision == "confirmed":  # one side's alone
            Overlap.objects.filter(partnership_id=decision.partnership_id, left_record_id=decision.left_record_id,
                                   right_record_id=decision.right_record_id, confirmed=True).delete()
            decision.delete()


def _range(prefix):
    threshold, review = f"{prefix}_threshold", f"{prefix}_review_threshold"
    return ((Q(**{f"{threshold}__isnull": True}) | (Q(**{f"{threshold}__gt": 0}) & Q(**{f"{threshold}__lte": 1})))
            & (Q(**{f"{review}__isnull": True}) | (Q(**{f"{review}__gte": 0}) & Q(**{f"{review}__lte": 1}))))


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_tier_history"),
        ("mapping", "0010_import_duplicates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="matchsettings", name="matchsettings_thresholds_in_range"),
        migrations.RenameField(model_name="matchsettings", old_name="threshold", new_name="initiator_threshold"),
        migrations.RenameField(model_name="matchsettings", old_name="review_threshold",
                               new_name="initiator_review_threshold"),
        migrations.AddField(model_name="matchsettings", name="partner_threshold",
                            field=models.FloatField(blank=True, null=True)),
        migrations.AddField(model_name="matchsettings", name="partner_review_threshold",
                            field=models.FloatField(blank=True, null=True)),
        migrations.AddField(model_name="matchsettings", name="model_requests",
                            field=models.JSONField(blank=True, default=dict)),
        migrations.CreateModel(
            name="SideDecision",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("side", models.CharField(choices=[("initiator", "The initiator"), ("partner", "The partner")],
                                          max_length=10)),
                ("decision", models.CharField(choices=[("confirmed", "Confirmed: same company"),
                                                       ("rejected", "Rejected: different companies")],
                                              max_length=10)),
                ("note", models.TextField(blank=True, max_length=2000)),
                ("decided_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name="+", to=settings.AUTH_USER_MODEL)),
                ("decided_by_organization", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                              related_name="+", to="accounts.organization")),
                ("left_record", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                  to="mapping.accountrecord")),
                ("partnership", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                  related_name="side_decisions", to="accounts.partnership")),
                ("right_record", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                   to="mapping.accountrecord")),
            ],
            options={
                "ordering": ["-created_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("partnership", "left_record", "right_record", "side"),
                                            name="sidedecision_one_per_side"),
                    models.CheckConstraint(condition=Q(side__in=["initiator", "partner"]),
                                           name="sidedecision_side_valid"),
                    models.CheckConstraint(condition=Q(decision__in=["confirmed", "rejected"]),
                                           name="sidedecision_decision_valid"),
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="matchsettings",
            constraint=models.CheckConstraint(condition=_range("initiator") & _range("partner"),
                                              name="matchsettings_side_thresholds_in_range"),
        ),
        migrations.RunPython(_sides, migrations.RunPython.noop),
    ]
