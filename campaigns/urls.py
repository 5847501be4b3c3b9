from django.urls import path

from campaigns import apis, views

app_name = "campaigns"

urlpatterns = [
    path("universes/", views.universe_list, name="universe-list"),
    path("universes/new/", views.universe_edit, name="universe-create"),
    path("universes/<int:pk>/", views.universe_detail, name="universe-detail"),
    path("universes/<int:pk>/edit/", views.universe_edit, name="universe-edit"),
    path("universes/<int:universe_pk>/elements/new/", views.element_edit, name="element-create"),
    path("elements/<int:pk>/", views.element_detail, name="element-detail"),
    path("elements/<int:pk>/edit/", views.element_edit, name="element-edit"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/new/", views.campaign_edit, name="campaign-create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("workspaces/switch/", views.workspace_switch, name="workspace-switch"),
]

api_urlpatterns = [
    path("workspaces/", apis.WorkspaceListApi.as_view(), name="api-workspace-list"),
    path("universes/", apis.UniverseListApi.as_view(), name="api-universe-list"),
    path("universes/<int:pk>/", apis.UniverseDetailApi.as_view(), name="api-universe-detail"),
    path("elements/", apis.ElementListApi.as_view(), name="api-element-list"),
    path("elements/<int:pk>/", apis.ElementDetailApi.as_view(), name="api-element-detail"),
    path("campaigns/", apis.CampaignListApi.as_view(), name="api-campaign-list"),
    path("campaigns/<int:pk>/", apis.CampaignDetailApi.as_view(), name="api-campaign-detail"),
]
