from django import forms

from mapping.lists.columns import FIELD_LABELS, FIELDS
from mapping.lists.models import AccountList, ImportJob


class AccountListForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=AccountList.Kind.choices, initial=AccountList.Kind.CUSTOMERS)
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    base_list = forms.ModelChoiceField(
        queryset=AccountList.objects.none(),
        required=False,
        help_text="Custom segments only: the list they filter.",
    )
    filter_country = forms.CharField(
        required=False,
        max_length=500,
        label="Countries",
        help_text="Custom segments only: countries to keep, comma-separated (e.g. Germany, AT).",
    )

    def __init__(self, *args, lists=None, **kwargs):
        super().__init__(*args, **kwargs)
        if lists is not None:
            self.fields["base_list"].queryset = lists
        self.fields["base_list"].label_from_instance = lambda account_list: account_list.name

    def filters(self) -> dict:
        countries = [c.strip() for c in self.cleaned_data.get("filter_country", "").split(",") if c.strip()]
        return {"country": countries} if countries else {}


class UploadForm(forms.Form):
    file = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"id": "file-input", "accept": ".csv,.txt,.tsv,.xlsx"}),
        help_text="CSV or XLSX export of your CRM.",
    )


class MappingForm(forms.Form):
    """One choice per record field among the file's columns, then how to import."""

    mode = forms.ChoiceField(
        choices=ImportJob.Mode.choices, widget=forms.RadioSelect, initial=ImportJob.Mode.REPLACE
    )
    skip_invalid_rows = forms.BooleanField(
        required=False,
        label="Skip rows with problems (and list them in a report) instead of refusing the file",
    )

    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— not in this file —")] + [(h, h) for h in headers]
        for name in FIELDS:
            self.fields[f"map_{name}"] = forms.ChoiceField(
                choices=choices, required=name == "name", label=FIELD_LABELS[name]
            )
        # Said by the server too, not only by the browser's hint on the required choice.
        self.fields["map_name"].error_messages["required"] = (
            "Choose the column that holds the account name: no column was recognized as one, and an "
            "import needs it."
        )

    def mapping_fields(self):
        return [self[f"map_{name}"] for name in FIELDS]

    def column_mapping(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[f"map_{name}"] for name in FIELDS if self.cleaned_data.get(f"map_{name}")
        }

    @staticmethod
    def initial_for(job: ImportJob) -> dict:
        initial = {f"map_{name}": header for name, header in (job.column_mapping or {}).items()}
        initial["mode"] = job.mode
        initial["skip_invalid_rows"] = job.skip_invalid_rows
        return initial
