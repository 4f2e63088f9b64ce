"""JSON from users, read with bounds: the one loader for every JSON body (the DRF parser set in
REST_FRAMEWORK) and for JSON held in a form field or a multipart part.

Python's json recurses per level of nesting: a body of a few thousand `[` raises RecursionError
(a 500) in the parser or later wherever the value is walked or encoded again. PostgreSQL refuses
U+0000 in text and jsonb, and a lone surrogate cannot be encoded at all (both DataError or
UnicodeEncodeError, a 500, long after the request was accepted). The loader refuses the three,
with a 400 that says which.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError

from prm.common.errors import ValidationFailed
from prm.common.text import unstorable

# Our deepest legitimate body (a push: body > records > record > extra > value) has 4 levels.
DEFAULT_MAX_DEPTH = 32
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89abAB]")


def max_depth() -> int:
    return getattr(settings, "JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)


class JSONRejected(ValidationFailed):
    code = "invalid_json"


def value_problem(value, *, depth_limit: int | None = None, check_text: bool = True) -> str | None:
    """What is wrong with an already-decoded JSON value, or None: nesting past the limit, NUL or
    a lone surrogate in a key or a string. Iterative, so any depth is safe to look at."""
    limit = max_depth() if depth_limit is None else depth_limit
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
            if check_text:
                for key in item:
                    if isinstance(key, str) and (problem := unstorable(key)):
                        return problem
        elif isinstance(item, list | tuple):
            children = item
        elif check_text and isinstance(item, str):
            if problem := unstorable(item):
                return problem
            continue
        else:
            continue
        if depth > limit:
            return f"JSON is nested too deeply (more than {limit} levels)."
        for child in children:
            if isinstance(child, dict | list | tuple):
                stack.append((child, depth + 1))
            elif check_text and isinstance(child, str) and (problem := unstorable(child)):
                return problem
    return None


def _raw_problem_check(text: str, value) -> str | None:
    """value_problem, walking only when the raw text says it may find something: a body with
    fewer brackets than the depth limit cannot be too deep, and NUL or a lone surrogate can only
    come in as an escape (json refuses raw control characters)."""
    limit = max_depth()
    deep = text.count("[") + text.count("{") > limit
    text_risk = "\\u0000" in text or _ESCAPED_SURROGATE.search(text) is not None
    if not deep and not text_risk:
        return None
    return value_problem(value, depth_limit=limit if deep else 10**9, check_text=text_risk)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")  # nor can PostgreSQL's jsonb store it


def loads(text: str | bytes, *, field: str | None = None):
    """json.loads for user input; raises JSONRejected (a 400) with the reason, naming `field`
    in the errors when given."""

    def reject(message: str):
        extra = {field: [message]} if field else {}
        return JSONRejected(f"{field}: {message}" if field else message, extra=extra)

    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise reject("JSON must be UTF-8 text.") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise reject(f"JSON is nested too deeply (more than {max_depth()} levels).") from None
    except ValueError as exc:
        raise reject(f"Not valid JSON ({exc}).") from None
    problem = _raw_problem_check(text, value)
    if problem:
        raise reject(problem)
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser through the bounded loader (every API view: DEFAULT_PARSER_CLASSES)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parsers.get_encoding(parser_context)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError("JSON parse error - the body is not valid UTF-8 text.") from None
        try:
            return loads(text)
        except JSONRejected as exc:
            raise ParseError(f"JSON parse error - {exc.message}") from None


class JSONField(serializers.JSONField):
    """serializers.JSONField with the loader's bounds, for JSON sent as a form field and for
    values the parser already decoded (which it bounded too, unless another parser ran)."""

    def to_internal_value(self, data):
        if self.binary or getattr(data, "is_json_string", False):
            try:
                return loads(data)
            except JSONRejected as exc:
                raise serializers.ValidationError(exc.message) from None
        problem = value_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        return super().to_internal_value(data)
