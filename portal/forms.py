"""Forms of the portal: input validation only; the services decide."""

from django import forms
from django.core.exceptions import ValidationError

from .models import ScheduledReport


class ScheduledReportForm(forms.ModelForm):
    class Meta:
        model = ScheduledReport
        fields = ["name", "frequency", "recipients", "is_active"]
        widgets = {
            "recipients": forms.Textarea(
                attrs={"rows": 3, "placeholder": "ann@example.com, bob@example.com"}
            )
        }

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"name": d["name"], "frequency": d["frequency"], "recipients": d["recipients"]}

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)

    def validate_unique(self):
        # The service (and the database constraint) decide uniqueness; the organization
        # is not a form field.
        pass
