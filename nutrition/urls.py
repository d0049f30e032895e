from django.urls import path

from nutrition import views

urlpatterns = [
    path("nutrition/", views.nutrition, name="nutrition"),
    path("nutrition/generate/", views.generate, name="nutrition_generate"),
    path("nutrition/shopping/", views.shopping, name="nutrition_shopping"),
    path("nutrition/<str:day>/replan/", views.replan, name="nutrition_replan"),
    path("nutrition/<str:day>/<str:slot>/swap/", views.swap, name="nutrition_swap"),
    path("nutrition/<str:day>/<str:slot>/lock/", views.lock, name="nutrition_lock"),
    path("nutrition/athlete/<int:athlete_id>/", views.nutrition, name="athlete_nutrition"),
    path(
        "nutrition/athlete/<int:athlete_id>/generate/",
        views.generate,
        name="athlete_nutrition_generate",
    ),
    path(
        "nutrition/athlete/<int:athlete_id>/shopping/",
        views.shopping,
        name="athlete_nutrition_shopping",
    ),
    path(
        "nutrition/athlete/<int:athlete_id>/<str:day>/replan/",
        views.replan,
        name="athlete_nutrition_replan",
    ),
    path(
        "nutrition/athlete/<int:athlete_id>/<str:day>/<str:slot>/swap/",
        views.swap,
        name="athlete_nutrition_swap",
    ),
    path(
        "nutrition/athlete/<int:athlete_id>/<str:day>/<str:slot>/lock/",
        views.lock,
        name="athlete_nutrition_lock",
    ),
]

from nutrition import views_print  # noqa: E402 - issue 10, the printable plan

urlpatterns += [
    path("plan/print/", views_print.plan_print, name="plan_print"),
    path("plan/print/<int:athlete_id>/", views_print.plan_print, name="athlete_plan_print"),
]

from nutrition import views_food_log  # noqa: E402 - the client's food log page

urlpatterns += [
    path("nutrition/log/", views_food_log.food_log, name="food_log"),
    path(
        "nutrition/log/<int:entry_id>/delete/",
        views_food_log.food_log_delete,
        name="food_log_delete",
    ),
]
