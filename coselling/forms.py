"""Portal forms: they only parse; the services check everything (errors come back on the form)."""

from django import forms

from coselling.models import IntroKind

MONEY_PATTERN = r"^[0-9]{1,11}(\.[0-9]{1,4})?$"


class RegistrationForm(forms.Form):
    account_name = forms.CharField(max_length=200)
    website = forms.CharField(max_length=255, required=False, help_text="e.g. acme.com")
    country = forms.CharField(max_length=100, required=False)
    value = forms.RegexField(regex=MONEY_PATTERN, max_length=16, help_text="e.g. 25000.00")
    currency = forms.CharField(min_length=3, max_length=3, initial="USD", help_text="ISO 4217, e.g. EUR")
    expected_close = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    products = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    contact_name = forms.CharField(max_length=200, required=False)
    contact_email = forms.EmailField(max_length=254, required=False)
    notes = forms.CharField(max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    overlap_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RequiredNoteForm(forms.Form):
    note = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Question")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ApproveForm(forms.Form):
    protection_days = forms.IntegerField(min_value=1, max_value=365, initial=90)
    note = forms.CharField(max_length=2000, required=False)


class ExtendForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=365, initial=90)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("won", "Won"), ("lost", "Lost")])
    note = forms.CharField(max_length=2000, required=False)


class IntroForm(forms.Form):
    overlap_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=IntroKind.choices)
    message = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    respond_by = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Default: 5 business days."
    )


class ReplyForm(forms.Form):
    body = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), label="Message")
