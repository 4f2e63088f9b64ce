"""Small shared pieces for DRF views: views only translate input, call one service or selector,
and render."""

from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from prm.common.errors import NotFound, ValidationFailed


def parse(serializer_class: type[serializers.Serializer], data) -> dict:
    """Validate input with a plain serializer; a ValidationFailed carries field errors."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationFailed("Invalid input.", extra=serializer.errors)
    return serializer.validated_data


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
