"""django-import-export's admin import, for CSV files from spreadsheets.

``CSVImportMixin`` replaces ``ImportMixin`` on a model admin whose import resource describes its
``columns`` and writes its ``import_template()`` (``seats.resources.UserImportResource``). It
keeps the library's views (upload, preview, confirm) and plugs in where the library expects it:

- one import format, ``seats.formats.SniffedCSV`` (delimiter and encoding detected);
- the import page explains the columns and links a template to download (``import/template/``);
- a file that cannot be read is a message on the form, never a traceback;
- a confirmed import that is refused (a row became invalid after the preview, or the uploaded
  file is gone) writes nothing and says why on the import page; ``process_result`` (log entries,
  the "Import finished" message, the ``post_import`` signal) runs only for an import written.
"""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from import_export.admin import ImportMixin
from import_export.forms import ImportForm

from ..formats import EMPTY_FILE, ImportFileError, SniffedCSV

logger = logging.getLogger(__name__)

MAX_MESSAGES = 20


class CSVImportForm(ImportForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["import_file"]
        field.widget.attrs["accept"] = ".csv,.tsv,.txt,text/csv"
        field.error_messages["empty"] = EMPTY_FILE


class CSVImportMixin(ImportMixin):
    import_formats = [SniffedCSV]
    import_form_class = CSVImportForm
    import_template_name = "admin/csv_import.html"

    def _import_url_name(self, suffix):
        return f"{self.opts.app_label}_{self.opts.model_name}_{suffix}"

    def get_urls(self):
        return [
            path(
                "import/template/",
                self.admin_site.admin_view(self.import_template_view),
                name=self._import_url_name("import_template"),
            ),
            *super().get_urls(),
        ]

    def import_template_view(self, request):
        """The header row and example rows as a CSV file, to fill in and upload."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        resource_class = self.get_import_resource_classes(request)[0]
        response = HttpResponse(
            resource_class.import_template(), content_type="text/csv; charset=utf-8"
        )
        filename = f"{self.opts.model_name}-import-template.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        if isinstance(response, TemplateResponse):
            resource_class = self.get_import_resource_classes(request)[0]
            response.context_data["import_columns"] = resource_class.columns
            response.context_data["import_template_url"] = reverse(
                f"admin:{self._import_url_name('import_template')}",
                current_app=self.admin_site.name,
            )
        return response

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):
            for message in e.messages:
                form.add_error("import_file", message)
            return
        logger.error("An import file could not be read", exc_info=e)
        super().add_data_read_fail_error_to_form(form, e)

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except (ImportFileError, FileNotFoundError):
            # Confirmed twice (the first removed the file), or the temporary file is gone.
            messages.error(
                request,
                "Nothing was imported: the uploaded file is no longer on the server "
                "(it may have been imported already). Upload it again.",
            )
            return redirect(f"admin:{self._import_url_name('import')}")

    def import_written(self, result, request) -> None:
        """Called once a confirmed import is written: what a subclass does next (the portal
        invites the new users)."""

    def process_result(self, result, request):
        if not (result.has_errors() or result.has_validation_errors()):
            response = super().process_result(result, request)
            self.import_written(result, request)
            return response
        # The resource rolled the import back: say why, as the preview does.
        problems = [str(error.error) for error in result.base_errors]
        problems += [
            f"Line {number + 1}: {error.error}"
            for number, errors in result.row_errors()
            for error in errors
        ]
        for row in result.invalid_rows:
            for field, errors in row.field_specific_errors.items():
                problems += [f"Line {row.number + 1}, {field}: {e}" for e in errors]
            problems += [f"Line {row.number + 1}: {e}" for e in row.non_field_specific_errors]
        messages.error(request, "Nothing was imported. Correct the file and upload it again.")
        for problem in problems[:MAX_MESSAGES]:
            messages.error(request, problem)
        if len(problems) > MAX_MESSAGES:
            messages.error(request, f"… and {len(problems) - MAX_MESSAGES} more.")
        return redirect(f"admin:{self._import_url_name('import')}")
