from django.contrib import admin

from audio.models import AudioRequest


@admin.register(AudioRequest)
class AudioRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "provider", "workspace", "job", "asset", "created_at")
    list_filter = ("kind", "provider")
    search_fields = ("script",)
    raw_id_fields = ("workspace", "campaign", "job", "source_asset", "asset", "created_by")
    readonly_fields = ("transcript", "words", "alignment", "details", "created_at", "updated_at")
