"""The overlap tally also counts, per list pair, the overlaps whose left or right record is private,
so that a partner's counts (matches minus the other side's private ones) are one indexed read;
and the overlaps' score index gains the id, the pages' tie-breaker.

Kept exact by the statement-level triggers on the overlap table (which now read the records'
private flags) and by a row-level trigger on a record's private flag, which moves that record's
overlaps between the private and the visible counts. PostgreSQL only; elsewhere counts are live.
"""

from django.db import migrations, models

TALLY_FUNCTION = """
CREATE OR REPLACE FUNCTION mapping_overlap_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO mapping_overlaptally (partnership_id, left_list_id, right_list_id, matches, left_private, right_private)
    SELECT n.partnership_id, n.left_list_id, n.right_list_id, count(*),
           count(*) FILTER (WHERE l.private), count(*) FILTER (WHERE r.private)
    FROM tally_new n
    LEFT JOIN mapping_accountrecord l ON l.id = n.left_record_id
    LEFT JOIN mapping_accountrecord r ON r.id = n.right_record_id
    WHERE n.status = 'match'
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (partnership_id, left_list_id, right_list_id)
    DO UPDATE SET matches = mapping_overlaptally.matches + EXCLUDED.matches,
                  left_private = mapping_overlaptally.left_private + EXCLUDED.left_private,
                  right_private = mapping_overlaptally.right_private + EXCLUDED.right_private;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO mapping_overlaptally (partnership_id, left_list_id, right_list_id, matches, left_private, right_private)
    SELECT o.partnership_id, o.left_list_id, o.right_list_id, -count(*),
           -count(*) FILTER (WHERE l.private), -count(*) FILTER (WHERE r.private)
    FROM tally_old o
    LEFT JOIN mapping_accountrecord l ON l.id = o.left_record_id
    LEFT JOIN mapping_accountrecord r ON r.id = o.right_record_id
    WHERE o.status = 'match'
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (partnership_id, left_list_id, right_list_id)
    DO UPDATE SET matches = mapping_overlaptally.matches + EXCLUDED.matches,
                  left_private = mapping_overlaptally.left_private + EXCLUDED.left_private,
                  right_private = mapping_overlaptally.right_private + EXCLUDED.right_private;
  ELSE
    INSERT INTO mapping_overlaptally (partnership_id, left_list_id, right_list_id, matches, left_private, right_private)
    SELECT c.partnership_id, c.left_list_id, c.right_list_id, sum(c.delta),
           coalesce(sum(c.delta) FILTER (WHERE l.private), 0), coalesce(sum(c.delta) FILTER (WHERE r.private), 0)
    FROM (
      SELECT partnership_id, left_list_id, right_list_id, left_record_id, right_record_id, 1 AS delta
      FROM tally_new WHERE status = 'match'
      UNION ALL
      SELECT partnership_id, left_list_id, right_list_id, left_record_id, right_record_id, -1
      FROM tally_old WHERE status = 'match'
    ) AS c
    LEFT JOIN mapping_accountrecord l ON l.id = c.left_record_id
    LEFT JOIN mapping_accountrecord r ON r.id = c.right_record_id
    GROUP BY 1, 2, 3
    HAVING sum(c.delta) <> 0 OR coalesce(sum(c.delta) FILTER (WHERE l.private), 0) <> 0
        OR coalesce(sum(c.delta) FILTER (WHERE r.private), 0) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (partnership_id, left_list_id, right_list_id)
    DO UPDATE SET matches = mapping_overlaptally.matches + EXCLUDED.matches,
                  left_private = mapping_overlaptally.left_private + EXCLUDED.left_private,
                  right_private = mapping_overlaptally.right_private + EXCLUDED.right_private;
  END IF;
  RETURN NULL;
END $$;
"""

# A record made private (or public again) moves its matched overlaps between the counts.
PRIVATE_FUNCTION = """
CREATE OR REPLACE FUNCTION mapping_record_private_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d bigint := CASE WHEN NEW.private THEN 1 ELSE -1 END;
BEGIN
  UPDATE mapping_overlaptally t SET left_private = t.left_private + d * c.n
  FROM (SELECT partnership_id, left_list_id, right_list_id, count(*) AS n FROM mapping_overlap
        WHERE left_record_id = NEW.id AND status = 'match' GROUP BY 1, 2, 3) AS c
  WHERE t.partnership_id = c.partnership_id AND t.left_list_id = c.left_list_id
    AND t.right_list_id = c.right_list_id;
  UPDATE mapping_overlaptally t SET right_private = t.right_private + d * c.n
  FROM (SELECT partnership_id, left_list_id, right_list_id, count(*) AS n FROM mapping_overlap
        WHERE right_record_id = NEW.id AND status = 'match' GROUP BY 1, 2, 3) AS c
  WHERE t.partnership_id = c.partnership_id AND t.left_list_id = c.left_list_id
    AND t.right_list_id = c.right_list_id;
  RETURN NULL;
END $$;
"""
PRIVATE_TRIGGER = (
    "CREATE TRIGGER mapping_record_private_tally AFTER UPDATE OF private ON mapping_accountrecord "
    "FOR EACH ROW WHEN (OLD.private IS DISTINCT FROM NEW.private) EXECUTE FUNCTION mapping_record_private_tally()"
)
BACKFILL = """
UPDATE mapping_overlaptally t SET left_private = c.lp, right_private = c.rp
FROM (SELECT o.partnership_id, o.left_list_id, o.right_list_id,
             count(*) FILTER (WHERE l.private) AS lp, count(*) FILTER (WHERE r.private) AS rp
      FROM mapping_overlap o
      JOIN mapping_accountrecord l ON l.id = o.left_record_id
      JOIN mapping_accountrecord r ON r.id = o.right_record_id
      WHERE o.status = 'match' AND (l.private OR r.private)
      GROUP BY 1, 2, 3) AS c
WHERE t.partnership_id = c.partnership_id AND t.left_list_id = c.left_list_id AND t.right_list_id = c.right_list_id
"""
OLD_FUNCTION = """
CREATE OR REPLACE FUNCTION mapping_overlap_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO mapping_overlaptally (partnership_id, left_list_id, right_list_id, matches)
    SELECT partnership_id, left_list_id, right_list_id, count(*) FROM tally_new WHERE status = 'match'
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (partnership_id, left_list_id, right_list_id)
    DO UPDATE SET matches = mapping_overlaptally.matches + EXCLUDED.matches;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO mapping_overlaptally (partnership_id, left_list_id, right_list_id, matches)
    SELECT partnership_id, left_list_id, right_list_id, -count(*) FROM tally_old WHERE status = 'match'
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (partnership_id, left_list_id, right_list_id)
    DO UPDATE SET matches = mapping_overlaptally.matches + EXCLUDED.matches;
  ELSE
    INSERT INTO mapping_overlaptally (partnership_id, left_list_id, right_list_id, matches)
    SELECT partnership_id, left_list_id, right_list_id, sum(delta) FROM (
      SELECT partnership_id, left_list_id, right_list_id, 1 AS delta FROM tally_new WHERE status = 'match'
      UNION ALL
      SELECT partnership_id, left_list_id, right_list_id, -1 FROM tally_old WHERE status = 'match'
    ) AS changes GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (partnership_id, left_list_id, right_list_id)
    DO UPDATE SET matches = mapping_overlaptally.matches + EXCLUDED.matches;
  END IF;
  RETURN NULL;
END $$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in [TALLY_FUNCTION, PRIVATE_FUNCTION, PRIVATE_TRIGGER, BACKFILL]:
        schema_editor.execute(statement)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in [
        "DROP TRIGGER IF EXISTS mapping_record_private_tally ON mapping_accountrecord",
        "DROP FUNCTION IF EXISTS mapping_record_private_tally()",
        OLD_FUNCTION,
    ]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("mapping", "0005_matchsettings"),
    ]

    operations = [
        migrations.AddField(model_name="overlaptally", name="left_private", field=models.BigIntegerField(default=0)),
        migrations.AddField(model_name="overlaptally", name="right_private", field=models.BigIntegerField(default=0)),
        migrations.RunPython(install, remove),
        # Pages of overlaps are ordered by score then id: with id in the index, the first page
        # is read straight off it, however many pairs share a score.
        migrations.RemoveIndex(model_name="overlap", name="overlap_by_score"),
        migrations.AddIndex(
            model_name="overlap",
            index=models.Index(fields=["partnership", "status", "-score", "id"], name="overlap_by_score_id"),
        ),
    ]
