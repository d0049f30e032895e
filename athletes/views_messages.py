"""The client-coach thread page: `messages/` for the client, `messages/<athlete id>/` for
their coaches (linked from the client's detail page)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from athletes import messages, selectors
from coaching import audit


@login_required
def thread(request: HttpRequest, athlete_id: int | None = None) -> HttpResponse:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No such coaching business.")
    staff = selectors.is_staff(membership)
    if staff == (athlete_id is None):  # clients: their own thread; staff: a client's
        raise Http404("No such page.")
    athlete = selectors.athlete_in_view(membership, athlete_id)
    if athlete is None:
        raise Http404("No such athlete.")
    if staff:
        audit.record_client_view(actor_user_id=request.user.pk, athlete=athlete, page="messages")
    error, draft = "", ""
    if request.method == "POST":
        draft = request.POST.get("body", "")
        try:
            messages.message_send(athlete=athlete, author=membership, body=draft)
        except messages.MessageRefused as exc:
            error = (exc.fields.get("body") or [exc.message])[0]
        else:
            return redirect(request.path)
    messages.messages_mark_read(athlete=athlete, reader=membership)
    return render(
        request,
        "athletes/messages.html",
        {
            "athlete": athlete,
            "staff": staff,
            "included": messages.coach_time_included(athlete),
            "thread": list(messages.thread_of(athlete)),
            "error": error,
            "draft": draft,
            "max_chars": messages.MAX_CHARS,
        },
        status=400 if error else 200,
    )
