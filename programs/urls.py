from django.urls import path

from programs import views

urlpatterns = [
    path("plan/", views.plan, name="plan"),
    path("plan/<int:athlete_id>/", views.plan, name="athlete_plan"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/approve/", views.review_decide, name="review_bulk_approve"),
    path("review/<int:adjustment_id>/", views.review_decide, name="review_decide"),
]
