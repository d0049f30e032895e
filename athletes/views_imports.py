"""The client's file imports page: upload, then watch the import finish (issue 11)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from athletes import imports, selectors
from athletes.views import _own_profile
from coaching.errors import DomainError


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label="What is the file?", widget=forms.RadioSelect)
    file = forms.FileField(label="File")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (i.kind, f"{i.label}: {i.help}") for i in imports.importers()
        ]


@login_required
def imports_page(request: HttpRequest) -> HttpResponse:
    athlete = _own_profile(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            imports.import_create(
                athlete=athlete, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except DomainError as exc:
            for field, errors in (exc.fields or {"file": [exc.message]}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, "Uploaded. The import runs now; this page shows when done.")
            return redirect("imports")
    jobs = list(selectors.imports_visible_to(request.membership).filter(athlete=athlete)[:20])
    return render(
        request,
        "athletes/imports.html",
        {"form": form, "jobs": [(job, imports.progress_of(job)) for job in jobs]},
        status=400 if form.errors else 200,
    )


@login_required
def import_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """One job's row, for htmx polling while it runs."""
    athlete = _own_profile(request)
    job = (
        selectors.imports_visible_to(request.membership).filter(pk=job_id, athlete=athlete).first()
    )
    if job is None:
        raise Http404("No such import.")
    return render(
        request, "athletes/_import_row.html", {"job": job, "progress": imports.progress_of(job)}
    )
