"""Model instances read with one plain query, for the few reads every API request makes (its token
and user, its membership and organization, the partnership it names): there, compiling the ORM's
query costs more than running it. The instances are what the ORM would give (the same field
conversions), joined models attached as if by select_related."""

from __future__ import annotations

from functools import lru_cache

from django.db import connection
from django.db.models import Model


def as_id(value) -> int | None:
    """value as a row id (a bigint) if it is one, else None: '²', '-1' or 30 digits are no id."""
    text = str(value)
    if text.isascii() and text.isdigit() and int(text) < 2**63:
        return int(text)
    return None


def columns(model: type[Model], alias: str) -> str:
    """The select list of all of model's concrete fields, from table alias `alias`."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


@lru_cache(maxsize=64)
def _plan(model: type[Model], vendor: str) -> tuple[list[str], list[tuple]]:
    """The attnames of model's concrete fields and, per field, its expression and converters."""
    fields = model._meta.concrete_fields
    plan = []
    for field in fields:
        expression = field.get_col(model._meta.db_table)
        plan.append(
            (expression, connection.ops.get_db_converters(expression) + field.get_db_converters(connection))
        )
    return [field.attname for field in fields], plan


def _instance(model: type[Model], values) -> Model:
    attnames, plan = _plan(model, connection.vendor)
    converted = []
    for (expression, converters), value in zip(plan, values, strict=True):
        for converter in converters:
            value = converter(value, expression, connection)
        converted.append(value)
    return model.from_db(connection.alias, attnames, converted)


def _split(row, models) -> tuple[Model, ...]:
    out, at = [], 0
    for model in models:
        width = len(model._meta.concrete_fields)
        out.append(_instance(model, row[at : at + width]))
        at += width
    return tuple(out)


def fetch_all(sql: str, params, *models: type[Model]) -> list[tuple[Model, ...]]:
    """Run sql (selecting columns(model, ...) of each model in turn): per row, one instance of each
    model."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [_split(row, models) for row in rows]


def fetch_one(sql: str, params, *models: type[Model]) -> tuple[Model, ...] | None:
    """Like fetch_all, for the first row only; None when there is none."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _split(row, models)


def fetch_one_with_extras(sql: str, params, *models: type[Model]) -> tuple[tuple[Model, ...], tuple] | None:
    """Like fetch_one; the values selected after the models' columns come back as a second tuple."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    width = sum(len(model._meta.concrete_fields) for model in models)
    return _split(row[:width], models), tuple(row[width:])
