from django.contrib import admin

from audio.models import AudioRequest


@admin.register(AudioRequest)
class AudioRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "provider", "workspace", "job", "job_status", "asset", "created_at")
    list_filter = ("kind", "provider", "job__status")
    list_select_related = ("workspace", "job", "asset")
    search_fields = ("script",)
    raw_id_fields = ("workspace", "campaign", "job", "source_asset", "asset", "created_by")
    readonly_fields = ("transcript", "words", "alignment", "details", "created_at", "updated_at")

    def has_add_permission(self, request):
        # A request is made with its job by the audio services (pages, API); one added here would never run.
        return False

    @admin.display(description="status", ordering="job__status")
    def job_status(self, obj):
        return obj.job.status
