from django.urls import path

from . import views, webhooks

app_name = "support"

urlpatterns = [
    path("support/", views.ticket_list, name="tickets"),
    path("support/new/", views.ticket_open, name="ticket_open"),
    path("support/<int:pk>/", views.ticket_detail, name="ticket"),
    path("support/<int:pk>/reply/", views.ticket_reply, name="ticket_reply"),
    path("support/<int:pk>/close/", views.ticket_close, name="ticket_close"),
    path("support/<int:pk>/reopen/", views.ticket_reopen, name="ticket_reopen"),
    path("support/files/<int:pk>/", views.attachment_download, name="attachment"),
    path("support/inbound/mailgun/mime/", webhooks.mailgun_inbound, name="inbound_mailgun"),
]
