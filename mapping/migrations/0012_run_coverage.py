from django.db import migrations, models


def drop_pickled_engine_rows(apps, schema_editor):
    # Engine state and block payloads were pickles: they are never read again (the next run of each
    # list pair is full; a fanned-out run in flight is re-run by the watchdog). Trained models stay
    # in place and read as "needs retraining" (mapping.services.engine_blobs).
    apps.get_model("mapping", "MatchState").objects.all().delete()
    apps.get_model("mapping", "MatchBlockJob").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("mapping", "0011_side_thresholds"),
    ]

    operations = [
        migrations.AddField(
            model_name="matchrun",
            name="covered",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="matchrun",
            name="due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(drop_pickled_engine_rows, migrations.RunPython.noop),
    ]
