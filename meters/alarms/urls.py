"""Page routes of meters.alarms."""

from django.urls import path

from meters.alarms import views

app_name = "alarms"
urlpatterns = [
    path("", views.alarm_list, name="list"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/clear/", views.clear, name="clear"),
]
