"""Read stamps: a version per partnership and per organization, bumped in the same transaction as
any change to the data the overlap matrix and the overlap lists are made of, so that a cached
read (mapping.read_cache) is keyed by the data it came from and a change is honoured by the next
request.

- 'p<partnership id>': its overlaps (the tally follows them), its sharing rules, its own row;
- 'o<organization id>': its account lists, their records, its own row (its name);
- 'g': a TRUNCATE of any of these tables.

Statement-level triggers (transition tables: one trigger per statement, however many rows) only
note the keys in mapping_readstamp_pending; a deferred constraint trigger bumps them at commit,
in key order, so that a long import or match run holds no stamp's row lock while it works and two
commits never wait on each other in opposite orders. A reader sees the new version exactly when
it sees the new data. PostgreSQL only: elsewhere nothing is cached.
"""

from django.db import migrations

TABLES = """
CREATE TABLE IF NOT EXISTS mapping_readstamp (key text PRIMARY KEY, version bigint NOT NULL);
CREATE TABLE IF NOT EXISTS mapping_readstamp_pending (txid bigint NOT NULL, key text NOT NULL,
  PRIMARY KEY (txid, key));
"""

MARK = """
CREATE OR REPLACE FUNCTION mapping_readstamp_mark(keys text[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO mapping_readstamp_pending (txid, key)
  SELECT txid_current(), k FROM unnest(keys) AS k WHERE k IS NOT NULL
  ON CONFLICT DO NOTHING
$$;
"""

BUMP = """
CREATE OR REPLACE FUNCTION mapping_readstamp_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  keys text[];
BEGIN
  SELECT array_agg(key ORDER BY key) INTO keys FROM mapping_readstamp_pending WHERE txid = NEW.txid;
  IF keys IS NULL THEN
    RETURN NULL;  -- an earlier firing in this transaction bumped them all
  END IF;
  DELETE FROM mapping_readstamp_pending WHERE txid = NEW.txid;
  INSERT INTO mapping_readstamp (key, version)
  SELECT k, 1 FROM unnest(keys) AS k ORDER BY k
  ON CONFLICT (key) DO UPDATE SET version = mapping_readstamp.version + 1;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS mapping_readstamp_bump ON mapping_readstamp_pending;
CREATE CONSTRAINT TRIGGER mapping_readstamp_bump AFTER INSERT ON mapping_readstamp_pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mapping_readstamp_bump();
"""

# (table, function, the key of a changed row as SQL over the transition table "changed")
WATCHED = (
    ("mapping_accountrecord", "mapping_readstamp_records",
     "SELECT DISTINCT 'o' || l.organization_id FROM mapping_accountlist l "
     "WHERE l.id IN (SELECT DISTINCT account_list_id FROM {rows})"),
    ("mapping_accountlist", "mapping_readstamp_lists", "SELECT DISTINCT 'o' || organization_id FROM {rows}"),
    ("mapping_overlap", "mapping_readstamp_overlaps", "SELECT DISTINCT 'p' || partnership_id FROM {rows}"),
    ("mapping_sharingrule", "mapping_readstamp_rules", "SELECT DISTINCT 'p' || partnership_id FROM {rows}"),
    ("accounts_partnership", "mapping_readstamp_partnerships", "SELECT DISTINCT 'p' || id FROM {rows}"),
    ("accounts_organization", "mapping_readstamp_organizations", "SELECT DISTINCT 'o' || id FROM {rows}"),
)

FUNCTION = """
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM mapping_readstamp_mark(ARRAY['g']);
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM mapping_readstamp_mark(ARRAY({new_rows} UNION {old_rows}));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM mapping_readstamp_mark(ARRAY({old_rows}));
  ELSE
    PERFORM mapping_readstamp_mark(ARRAY({new_rows}));
  END IF;
  RETURN NULL;
END $$;
"""

TRIGGERS = """
DROP TRIGGER IF EXISTS {function}_ins ON {table};
DROP TRIGGER IF EXISTS {function}_upd ON {table};
DROP TRIGGER IF EXISTS {function}_del ON {table};
DROP TRIGGER IF EXISTS {function}_trunc ON {table};
CREATE TRIGGER {function}_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {function}_upd AFTER UPDATE ON {table} REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {function}_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS changed_before
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {function}_trunc AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TABLES)
    schema_editor.execute(MARK)
    schema_editor.execute(BUMP)
    for table, function, keys in WATCHED:
        schema_editor.execute(FUNCTION.format(
            function=function, new_rows=keys.format(rows="changed"), old_rows=keys.format(rows="changed_before")
        ))
        schema_editor.execute(TRIGGERS.format(function=function, table=table))


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, function, _keys in WATCHED:
        for suffix in ("ins", "upd", "del", "trunc"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {function}_{suffix} ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
    schema_editor.execute("DROP TABLE IF EXISTS mapping_readstamp_pending")
    schema_editor.execute("DROP TABLE IF EXISTS mapping_readstamp")
    schema_editor.execute("DROP FUNCTION IF EXISTS mapping_readstamp_bump()")
    schema_editor.execute("DROP FUNCTION IF EXISTS mapping_readstamp_mark(text[])")


class Migration(migrations.Migration):

    dependencies = [
        ("mapping", "0008_training_on_worker"),
        ("accounts", "__first__"),
    ]

    operations = [migrations.RunPython(install, remove)]
