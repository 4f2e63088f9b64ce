"""Small shared pieces for DRF views: views only translate input, call one service or selector,
and render."""

from django.core.paginator import InvalidPage
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from prm.common.errors import NotFound, ValidationFailed


def parse(serializer_class: type[serializers.Serializer], data) -> dict:
    """Validate input with a plain serializer; a ValidationFailed carries field errors. A JSON body
    must have the documented types: DRF would take 5 for a text or "5" for a number."""
    serializer = serializer_class(data=data)
    if isinstance(data, dict) and not isinstance(data, QueryDict):
        errors = {
            name: [problem]
            for name, field in serializer.fields.items()
            if not field.read_only and name in data and (problem := json_type_problem(field, data[name]))
        }
        if errors:
            raise ValidationFailed("Invalid input.", extra=errors)
    if not serializer.is_valid():
        raise ValidationFailed("Invalid input.", extra=serializer.errors)
    return serializer.validated_data


def json_type_problem(field: serializers.Field, value) -> str | None:
    """Why a decoded JSON value is not of the type the field documents, or None (a field that
    takes anything, or a value its own validation will judge)."""
    if value is None:
        return None  # allow_null decides
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        if isinstance(value, list):
            return next(
                (
                    f"Item {i}: {p}"
                    for i, item in enumerate(value)
                    if (p := json_type_problem(field.child, item))
                ),
                None,
            )
        return None
    if isinstance(field, serializers.DictField):
        if isinstance(value, dict):
            return next(
                (f"{key}: {p}" for key, item in value.items() if (p := json_type_problem(field.child, item))),
                None,
            )
        return None
    if isinstance(field, serializers.Serializer):
        if isinstance(value, dict):
            return next(
                (
                    f"{name}: {p}"
                    for name, child in field.fields.items()
                    if name in value and (p := json_type_problem(child, value[name]))
                ),
                None,
            )
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        return None if whole and not isinstance(value, bool) else "Must be a whole number."
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        number = isinstance(value, float) or (isinstance(value, int) and abs(value) < 2**1023)
        return None if number and not isinstance(value, bool) else "Must be a number."
    if isinstance(field, serializers.MultipleChoiceField):
        return None
    if isinstance(field, serializers.CharField | serializers.ChoiceField):
        return None if isinstance(value, str) else "Must be a text."
    return None


class PaginatedAPIView(APIView):
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    def paginate(self, queryset, serializer_class):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


class OrgAPIView(PaginatedAPIView):
    """An API view acting for the caller's current organization (X-Organization header or the
    first membership). A caller who belongs to no organization sees nothing: 404."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        from accounts.context import current_membership

        membership = current_membership(request._request if hasattr(request, "_request") else request)
        if membership is None:
            raise NotFound("You do not belong to an organization yet.")
        self.membership = membership
        self.org = membership.organization


# ---------------------------------------------------------------- listings (count + rows) in pages

PAGE_PARAMETERS = [
    OpenApiParameter("page", {"type": "integer", "minimum": 1}),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1},
        description="Rows per page (at most 500; larger asks get 500).",
    ),
]


class ListingPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


def paged(serializer_class, name: str):
    return type(name, (ListingPage,), {"results": serializer_class(many=True)})


class ListingAPIView(OrgAPIView):
    """Pages a listing (count + rows) with the project's page-number pagination."""

    def page_of(self, listing):
        return Response(self.page_data(listing))

    def page_data(self, listing) -> dict:
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        size = paginator.get_page_size(self.request) or paginator.page_size
        try:
            number = int(self.request.query_params.get("page", 1))
        except ValueError:
            raise NotFound("Invalid page.") from None
        count = listing.count()
        if number < 1 or (number > 1 and (number - 1) * size >= count):
            raise NotFound("Invalid page.") from InvalidPage()
        rows = listing.rows((number - 1) * size, size)
        url = self.request.build_absolute_uri()
        nxt = replace_query_param(url, "page", number + 1) if number * size < count else None
        prev = None
        if number > 1:
            prev = (
                remove_query_param(url, "page")
                if number == 2
                else replace_query_param(url, "page", number - 1)
            )
        return {"count": count, "next": nxt, "previous": prev, "results": rows}
