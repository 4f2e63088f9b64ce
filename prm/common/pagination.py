from rest_framework.pagination import PageNumberPagination

from prm.common.errors import ValidationFailed


class DefaultPagination(PageNumberPagination):
    """Page-number pagination. A page_size that is not a whole number of at least 1 is refused
    (400) rather than silently replaced by the default; one above max_page_size gets that many."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    page_size_query_description = (
        f"Rows per page (at least 1; at most {max_page_size}, larger asks get that many)."
    )

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationFailed(
                "page_size must be a whole number of at least 1.",
                extra={self.page_size_query_param: ["A whole number of at least 1."]},
            )
        return self.max_page_size if len(raw) > 6 else min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters
