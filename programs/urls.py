from django.urls import path

from programs import views

urlpatterns = [
    path("plan/", views.plan, name="plan"),
    path("plan/<int:athlete_id>/", views.plan, name="athlete_plan"),
]
