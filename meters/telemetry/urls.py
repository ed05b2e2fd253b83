"""Page routes of meters.telemetry."""

from django.urls import path

from meters.telemetry import views

app_name = "telemetry"
urlpatterns = [
    path("board/", views.board, name="board"),
    path("energy/", views.energy, name="energy"),
    path("meters/<int:pk>/live/", views.live, name="live"),
    path("meters/<int:pk>/history/", views.history, name="history"),
    path("meters/<int:pk>/history.csv", views.history_csv, name="history-csv"),
    path("meters/<int:pk>/accept-baseline/", views.baseline_accept, name="accept-baseline"),
    path("dead-letters/", views.dead_letters, name="dead-letters"),
    path("unregistered/", views.unregistered, name="unregistered"),
    path("unregistered/<int:pk>/adopt/", views.adopt, name="adopt"),
]
