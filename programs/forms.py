"""Forms of the coach's pages in programs: shape and plain-language messages; the
services decide (their refusals go back on the field they name)."""

from __future__ import annotations

from django import forms

from athletes.services import COACH_NOTE_MAX_CHARS


class CoachNoteForm(forms.Form):
    body = forms.CharField(
        label="New note",
        max_length=COACH_NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write something first."},
        help_text="Only staff of the business read notes. Pinned notes also show in the "
        "review queue next to this client's changes.",
    )
    pinned = forms.BooleanField(label="Pin this note", required=False)
