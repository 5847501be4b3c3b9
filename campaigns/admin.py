from django.contrib import admin

from campaigns.models import Campaign, Element, Membership, Universe, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Universe)
class UniverseAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "tone", "updated_at"]
    list_filter = ["workspace"]
    search_fields = ["name", "description"]


@admin.register(Element)
class ElementAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "universe", "is_person", "consent_expires_on"]
    list_filter = ["kind", "is_person"]
    search_fields = ["name", "description"]
    filter_horizontal = ["reference_assets"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "status", "budget", "spent", "reserved", "currency", "starts_on"]
    list_filter = ["status", "objective", "workspace"]
    search_fields = ["name", "brief"]
    readonly_fields = ["spent", "reserved"]
