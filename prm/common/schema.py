"""The OpenAPI schema's account of errors: every operation documents the error statuses it can
answer, each with the one body that prm.common.exception_handler gives every API error."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorOut(serializers.Serializer):
    """The body of every API error (prm.common.exception_handler)."""

    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(
        help_text="What went wrong, for a program: invalid, not_found, permission_denied..."
    )
    errors = serializers.JSONField(
        required=False,
        help_text="With invalid input: the problems by field (a list for input that is not an object).",
    )


BODY_METHODS = {"POST", "PUT", "PATCH"}
# A character that str.strip() keeps (it strips what \s matches, and \x1c-\x1f and \x85 too).
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"
# Input URLs are checked by Django's URLValidator, which takes less than JSON Schema's "uri" (a
# host with a dot and a top-level domain of letters...): the documented pattern is a part of what
# it takes, so that whatever matches it is accepted.
# The same for e-mail addresses (Django's EmailValidator wants a top-level domain of 2 letters or more).
EMAIL = r"[A-Za-z0-9]{1,20}([._+-][A-Za-z0-9]{1,10}){0,2}@[A-Za-z0-9]{1,20}(\.[A-Za-z0-9]{1,15}){0,2}\.[A-Za-z]{2,10}"
URL = r"https?://[a-z0-9]{1,30}(\.[a-z0-9]{1,20}){0,2}\.[a-z]{2,10}(/[A-Za-z0-9_.~-]{0,20}){0,3}"


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, with the error responses added to each operation (those an
    operation documents itself are kept)."""

    def error_statuses(self) -> dict[str, str]:
        statuses = {
            "400": "Invalid input, or a request the current state does not allow.",
            "401": "No credentials, or credentials that are wrong or expired.",
            "403": "The caller's role does not allow it (or an admin has not set up two-factor authentication).",
            "404": "No such object for the caller's organization (others' objects are not disclosed), "
            "or no such page.",
        }
        if self.method in BODY_METHODS:
            statuses["413"] = "The request body is too large."
            statuses["415"] = "The request body's media type is not accepted here."
        if self.method in BODY_METHODS or self.method == "DELETE":
            statuses["409"] = "Conflicts with the object's current state."
            statuses["410"] = "No longer valid (an expired or used invitation)."
        if getattr(self.view, "throttle_classes", None):
            statuses["429"] = "Too many requests or failed attempts; try again later."
        return statuses

    def map_parsers(self):
        # JSON where a view takes it (form encodings are accepted too, but JSON is the API's);
        # multipart alone where a file is uploaded.
        media_types = super().map_parsers()
        for preferred in ("application/json", "multipart/form-data"):
            if preferred in media_types:
                return [preferred]
        return media_types

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.URLField)
            and schema.get("format") == "uri"
        ):
            schema.pop("format")
            schema["pattern"] = f"^({URL})?$" if field.allow_blank else f"^{URL}$"
        if (
            direction == "request"
            and isinstance(field, serializers.EmailField)
            and schema.get("format") == "email"
        ):
            schema.pop("format")
            schema["pattern"] = f"^({EMAIL})?$" if field.allow_blank else f"^{EMAIL}$"
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and field.trim_whitespace
            and not field.allow_blank
            and "pattern" not in schema
        ):
            schema["pattern"] = NOT_BLANK  # DRF trims the text first: whitespace alone is blank
        if (
            isinstance(field, serializers.ListSerializer | serializers.ListField)
            and schema.get("type") == "array"
        ):
            if not field.allow_empty:
                schema["minItems"] = max(1, schema.get("minItems", 0))
            if isinstance(field, serializers.ListSerializer):
                if getattr(field, "min_length", None) is not None:
                    schema["minItems"] = max(field.min_length, schema.get("minItems", 0))
                if getattr(field, "max_length", None) is not None:
                    schema["maxItems"] = field.max_length
        return schema

    def _map_basic_serializer(self, serializer, direction):
        # The field validators put "uri" and "email" back after _map_serializer_field: an input's
        # pattern stands for them.
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            for name, field in serializer.fields.items():
                prop = schema.get("properties", {}).get(name)
                if isinstance(field, serializers.URLField | serializers.EmailField) and isinstance(
                    prop, dict
                ):
                    for variant in [prop, *prop.get("oneOf", [])]:
                        if "pattern" in variant:
                            variant.pop("format", None)
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in self.error_statuses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorOut, code, ["application/json"], direction)
                responses[code]["description"] = description
        # Answered by the HTTP server in front (gunicorn: a request line past 4094 bytes), not by the app.
        responses.setdefault("414", {"description": "The URL is too long."})
        return responses
