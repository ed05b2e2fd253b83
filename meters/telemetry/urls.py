"""Page routes of meters.telemetry."""

from django.urls import path

from meters.telemetry import views

app_name = "telemetry"
urlpatterns = [
    path("board/", views.board, name="board"),
    path("energy/", views.energy, name="energy"),
    path("meters/<int:pk>/live/", views.live, name="live"),
    path("meters/<int:pk>/history/", views.history, name="history"),
    path("dead-letters/", views.dead_letters, name="dead-letters"),
    path("unregistered/", views.unregistered, name="unregistered"),
    path("unregistered/<int:pk>/adopt/", views.adopt, name="adopt"),
]
