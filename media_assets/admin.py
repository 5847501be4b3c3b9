from django.contrib import admin

from media_assets.models import MediaAsset


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ["display_name", "kind", "source", "workspace", "duration", "width", "height", "size", "created_at"]
    list_filter = ["kind", "source", "workspace"]
    search_fields = ["title", "original_name", "sha256"]
    readonly_fields = ["sha256", "size", "mime", "duration", "width", "height", "fps", "video_codec", "audio_codec"]
