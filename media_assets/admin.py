from django.contrib import admin

from media_assets.models import MediaAsset


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ["display_name", "kind", "source", "status", "workspace", "duration", "width", "height", "size", "created_at"]
    list_filter = ["kind", "source", "status", "workspace"]
    search_fields = ["title", "original_name", "sha256"]
    readonly_fields = [
        "uuid", "sha256", "size", "mime", "duration", "width", "height", "fps", "video_codec", "audio_codec",
        "bitrate", "audio_channels", "loudness_lufs", "file", "poster", "thumbnail", "scrub_strip", "waveform",
        "ingest_job", "reencoded", "preview_error",
    ]
    raw_id_fields = ["campaign", "element", "created_by"]
