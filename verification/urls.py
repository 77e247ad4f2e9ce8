from django.urls import path

from . import views

app_name = "verification"

urlpatterns = [
    path("", views.case_list, name="cases"),
    path("<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/documents/<int:document_pk>/", views.document_view, name="document"),
]
