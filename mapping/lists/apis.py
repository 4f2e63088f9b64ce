from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from mapping.lists import selectors
from mapping.lists.columns import FIELDS
from mapping.lists.exports import csv_lines, csv_safe
from mapping.lists.models import AccountList, AccountRecord, ImportJob
from mapping.lists.services import imports as import_services
from mapping.lists.services import lists as list_services
from mapping.lists.services.lists import SEGMENT_FILTERS
from prm.common import json_input
from prm.common.api import OrgAPIView, parse
from prm.common.schema import ErrorOut
from prm.common.text import model_max_length

# ---------------------------------------------------------------- output serializers


class AccountListOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    source = serializers.CharField()
    base_list_id = serializers.IntegerField(allow_null=True)
    filters = serializers.JSONField()
    column_mapping = serializers.JSONField()
    record_count = serializers.SerializerMethodField()
    last_import_id = serializers.IntegerField(allow_null=True)
    last_changed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_record_count(self, obj) -> int | None:
        return None if obj.is_segment else obj.record_count  # a segment's count: see the detail


class AccountRecordOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    website = serializers.CharField()
    domain = serializers.CharField()
    country = serializers.CharField()
    region = serializers.CharField()
    city = serializers.CharField()
    postal_code = serializers.CharField()
    industry = serializers.CharField()
    owner_name = serializers.CharField()
    owner_email = serializers.CharField()
    crm_id = serializers.CharField()
    stage = serializers.CharField()
    extra = serializers.JSONField()
    private = serializers.BooleanField()
    name_norm = serializers.CharField()
    domain_norm = serializers.CharField()
    stem = serializers.CharField()
    country_norm = serializers.CharField()
    updated_at = serializers.DateTimeField()


class ImportJobOut(serializers.Serializer):
    id = serializers.IntegerField()
    list_id = serializers.IntegerField(source="account_list_id")
    source = serializers.CharField()
    status = serializers.CharField()
    mode = serializers.CharField()
    skip_invalid_rows = serializers.BooleanField()
    original_filename = serializers.CharField()
    file_format = serializers.CharField()
    file_size = serializers.IntegerField()
    checksum = serializers.CharField()
    encoding = serializers.CharField()
    delimiter = serializers.CharField()
    headers = serializers.JSONField()
    column_mapping = serializers.JSONField()
    progress = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    rows_imported = serializers.IntegerField()
    rows_skipped = serializers.IntegerField()
    rows_duplicate = serializers.IntegerField(
        help_text="Rows repeating an earlier row of the file: its CRM id (a problem) or, without one, "
        "its content (imported once)."
    )
    added = serializers.IntegerField()
    edited = serializers.IntegerField()
    removed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    problems = serializers.JSONField()
    problem_count = serializers.IntegerField()
    warnings = serializers.JSONField()
    error = serializers.CharField()
    changeset_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ImportRejectedOut(ErrorOut):
    """The error body of an upload that was refused, with the failed job."""

    job = ImportJobOut(
        required=False, help_text="The failed import (absent when the request itself was invalid)."
    )


class ChangeSetOut(serializers.Serializer):
    id = serializers.IntegerField()
    list_id = serializers.IntegerField(source="account_list_id")
    created_at = serializers.DateTimeField()
    added_count = serializers.IntegerField()
    edited_count = serializers.IntegerField()
    removed_count = serializers.IntegerField()


class ChangeSetDetailOut(ChangeSetOut):
    added_ids = serializers.JSONField()
    edited_ids = serializers.JSONField()
    removed_ids = serializers.JSONField()


# ---------------------------------------------------------------- input serializers


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            name: {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
            for name in SEGMENT_FILTERS
        },
        "additionalProperties": False,
        "description": 'A segment\'s filters, e.g. {"country": ["DE", "AT"]} (countries by code or name).',
    }
)
class SegmentFiltersField(json_input.JSONField):
    pass


class AccountListIn(serializers.Serializer):
    name = serializers.CharField(max_length=model_max_length(AccountList, "name"))
    kind = serializers.ChoiceField(choices=AccountList.Kind.choices, default=AccountList.Kind.CUSTOMERS)
    description = serializers.CharField(
        max_length=model_max_length(AccountList, "description"), required=False, allow_blank=True, default=""
    )
    base_list_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    filters = SegmentFiltersField(required=False, default=dict)


class AccountListUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=model_max_length(AccountList, "name"), required=False)
    description = serializers.CharField(
        max_length=model_max_length(AccountList, "description"), required=False, allow_blank=True
    )
    filters = SegmentFiltersField(required=False)


class ImportIn(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, default=ImportJob.Mode.REPLACE)
    skip_invalid_rows = serializers.BooleanField(default=False)
    column_mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=20_000,
        help_text='JSON object {field: column header}, e.g. {"name": "Account Name"}; recognized if left out.',
    )


class PushRecordIn(serializers.Serializer):
    """Documentation of one pushed record; the service validates each record itself so that a bad
    one is reported by its index."""

    extra = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text="Free fields; each value is kept as text."
    )

    def get_fields(self):
        # One text field per record field, as long as its column allows (the service checks it).
        fields = {
            name: serializers.CharField(
                required=name == "name", max_length=model_max_length(AccountRecord, name)
            )
            for name in FIELDS
        }
        return {**fields, **super().get_fields()}


class PushIn(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, default=ImportJob.Mode.MERGE)
    skip_invalid_rows = serializers.BooleanField(default=False)
    records = serializers.ListField(child=json_input.JSONField(), allow_empty=False)


class PushDocIn(PushIn):
    records = PushRecordIn(many=True, allow_empty=False)


# ---------------------------------------------------------------- views


class AccountListListApi(OrgAPIView):
    @extend_schema(responses=AccountListOut(many=True))
    def get(self, request):
        return self.paginate(selectors.account_lists_of(org=self.org), AccountListOut)

    @extend_schema(request=AccountListIn, responses={201: AccountListOut})
    def post(self, request):
        data = parse(AccountListIn, request.data)
        base_id = data.pop("base_list_id")
        base = selectors.account_list_for(org=self.org, list_id=base_id) if base_id else None
        account_list = list_services.account_list_create(
            actor=request.user, org=self.org, base_list=base, **data
        )
        return Response(AccountListOut(account_list).data, status=status.HTTP_201_CREATED)


class AccountListDetailApi(OrgAPIView):
    @extend_schema(responses=AccountListOut)
    def get(self, request, list_id: int):
        account_list = selectors.account_list_for(org=self.org, list_id=list_id)
        data = AccountListOut(account_list).data
        data["record_count"] = selectors.account_list_record_count(org=self.org, account_list=account_list)
        return Response(data)

    @extend_schema(request=AccountListUpdateIn, responses=AccountListOut)
    def patch(self, request, list_id: int):
        account_list = selectors.account_list_for(org=self.org, list_id=list_id)
        data = parse(AccountListUpdateIn, request.data)
        account_list = list_services.account_list_update(
            actor=request.user, account_list=account_list, **data
        )
        return Response(AccountListOut(account_list).data)

    @extend_schema(responses={204: None})
    def delete(self, request, list_id: int):
        account_list = selectors.account_list_for(org=self.org, list_id=list_id)
        list_services.account_list_delete(actor=request.user, account_list=account_list)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountRecordListApi(OrgAPIView):
    @extend_schema(responses=AccountRecordOut(many=True))
    def get(self, request, list_id: int):
        account_list = selectors.account_list_for(org=self.org, list_id=list_id)
        records = selectors.account_list_records(
            org=self.org, account_list=account_list, search=request.query_params.get("search", "")
        )
        return self.paginate(records, AccountRecordOut)


class AccountRecordPushApi(OrgAPIView):
    """Push a batch of records (JSON). merge: upsert by CRM id; replace: the batch is the whole list.
    Atomic: a record with a problem rejects the batch (400, problems by index) unless
    skip_invalid_rows."""

    parser_classes = [json_input.JSONParser]

    @extend_schema(request=PushDocIn, responses={200: ImportJobOut})
    def post(self, request, list_id: int):
        account_list = selectors.account_list_for(org=self.org, list_id=list_id)
        data = parse(PushIn, request.data)
        job = import_services.account_records_push(actor=request.user, account_list=account_list, **data)
        return Response(ImportJobOut(job).data, status=status.HTTP_200_OK)


class ImportListApi(OrgAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=ImportJobOut(many=True))
    def get(self, request, list_id: int):
        account_list = selectors.account_list_for(org=self.org, list_id=list_id)
        return self.paginate(selectors.import_jobs_of(org=self.org, account_list=account_list), ImportJobOut)

    @extend_schema(request=ImportIn, responses={201: ImportJobOut, 202: ImportJobOut, 400: ImportRejectedOut})
    def post(self, request, list_id: int):
        """Upload a CSV or XLSX and import it (in a Celery task). 202 while it runs; a file that
        cannot be read, or (when tasks run in-process) rows with problems, get a 400."""
        account_list = selectors.account_list_for(org=self.org, list_id=list_id)
        data = parse(ImportIn, request.data)
        mapping = (
            json_input.loads(data["column_mapping"], field="column_mapping")
            if data["column_mapping"]
            else None
        )
        upload = data["file"]
        job = import_services.import_job_create(
            actor=request.user,
            account_list=account_list,
            file=upload,
            filename=upload.name,
            source=ImportJob.Source.API,
            mode=data["mode"],
            skip_invalid_rows=data["skip_invalid_rows"],
            column_mapping=mapping,
            start=True,
        )
        job.refresh_from_db()
        if job.status == ImportJob.Status.FAILED:
            body = {
                "detail": job.error,
                "code": "import_rejected",
                "errors": {"problems": job.problems},
                "job": ImportJobOut(job).data,
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        code = status.HTTP_201_CREATED if job.is_finished else status.HTTP_202_ACCEPTED
        return Response(ImportJobOut(job).data, status=code)


class ImportDetailApi(OrgAPIView):
    @extend_schema(responses=ImportJobOut)
    def get(self, request, list_id: int, job_id: int):
        job = selectors.import_job_for(org=self.org, list_id=list_id, job_id=job_id)
        return Response(ImportJobOut(job).data)


class ImportReportApi(OrgAPIView):
    """The rows an import skipped (or, for a failed import, its problems), as CSV."""

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, list_id: int, job_id: int):
        job = selectors.import_job_for(org=self.org, list_id=list_id, job_id=job_id)
        return import_report_response(job)


def import_report_response(job: ImportJob):
    if job.skipped_report:
        response = FileResponse(job.skipped_report.open("rb"), content_type="text/csv; charset=utf-8")
    else:
        rows = [["Row", "Column", "Problem"]] + [
            [p.get("row") if p.get("row") is not None else "", p.get("column") or "", p.get("message", "")]
            for p in job.problems
        ]
        response = StreamingHttpResponse(
            csv_lines([[csv_safe(c) for c in row] for row in rows]), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-problems.csv"'
    return response


class AccountListExportApi(OrgAPIView):
    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, list_id: int):
        account_list = selectors.account_list_for(org=self.org, list_id=list_id)
        return export_response(org=self.org, account_list=account_list)


def export_response(*, org, account_list: AccountList) -> StreamingHttpResponse:
    rows = selectors.account_list_export_rows(org=org, account_list=account_list)
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="list-{account_list.pk}.csv"'
    return response


class ChangeSetListApi(OrgAPIView):
    @extend_schema(responses=ChangeSetOut(many=True))
    def get(self, request, list_id: int):
        account_list = selectors.account_list_for(org=self.org, list_id=list_id)
        return self.paginate(selectors.changesets_of(org=self.org, account_list=account_list), ChangeSetOut)


class ChangeSetDetailApi(OrgAPIView):
    @extend_schema(responses=ChangeSetDetailOut)
    def get(self, request, list_id: int, changeset_id: int):
        changeset = selectors.changeset_for(org=self.org, list_id=list_id, changeset_id=changeset_id)
        return Response(ChangeSetDetailOut(changeset).data)
