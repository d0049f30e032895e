from django.urls import path

from programs import views, views_client, views_coach, views_methodology

urlpatterns = [
    path("plan/", views.plan, name="plan"),
    path("plan/<int:athlete_id>/", views.plan, name="athlete_plan"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/approve/", views.review_decide, name="review_bulk_approve"),
    path("review/<int:adjustment_id>/", views.review_decide, name="review_decide"),
    path("review/<int:adjustment_id>/edit/", views.review_edit, name="review_edit"),
    path("history/", views_client.history, name="history"),
    path("history/<int:athlete_id>/", views_client.history, name="athlete_history"),
    path("progress/", views_client.progress_page, name="progress"),
    path("progress/<int:athlete_id>/", views_client.progress_page, name="athlete_progress"),
    path("clients/<int:athlete_id>/", views_coach.client_detail, name="client_detail"),
    path("clients/<int:athlete_id>/notes/", views_coach.client_note_add, name="client_note_add"),
    path(
        "clients/<int:athlete_id>/notes/<int:note_id>/delete/",
        views_coach.client_note_delete,
        name="client_note_delete",
    ),
    path(
        "clients/<int:athlete_id>/changes/<int:adjustment_id>/revert/",
        views_coach.client_adjustment_revert,
        name="client_adjustment_revert",
    ),
    path(
        "methodology/<int:methodology_id>/simulate/",
        views_methodology.methodology_simulate,
        name="methodology_simulate",
    ),
]

from programs import views_calendar  # noqa: E402 - calendar feed (issue 11)

urlpatterns += [
    path("calendar/", views_calendar.calendar_page, name="calendar"),
    path("calendar/<str:token>.ics", views_calendar.calendar_feed, name="calendar_feed"),
]
