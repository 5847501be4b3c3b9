from django.contrib import admin

from generation.models import EngineLease, ProviderHealth, VideoAttempt, VideoBatch, VideoGeneration


class VideoAttemptInline(admin.TabularInline):
    model = VideoAttempt
    extra = 0
    can_delete = False
    fields = ["chain_index", "retry", "provider", "model", "external_id", "status", "percent", "estimated_cost", "actual_cost",
              "error", "poll_due_at", "finished_at"]
    readonly_fields = fields


@admin.register(VideoGeneration)
class VideoGenerationAdmin(admin.ModelAdmin):
    list_display = ["prompt_short", "workspace", "campaign", "tier", "provider", "job_status", "estimated_cost", "actual_cost", "created_at"]
    list_filter = ["tier", "job__status", "workspace"]
    search_fields = ["prompt", "idempotency_key", "attempts__external_id"]
    raw_id_fields = ["job", "campaign", "batch", "image_asset", "last_frame_asset", "result_asset", "remix_of", "created_by"]
    readonly_fields = ["uuid", "chain", "strategy", "request_hash", "reserved_amount"]
    inlines = [VideoAttemptInline]

    @admin.display(description="Prompt")
    def prompt_short(self, obj):
        return obj.prompt[:60]

    @admin.display(description="Status", ordering="job__status")
    def job_status(self, obj):
        return obj.job.status


@admin.register(VideoBatch)
class VideoBatchAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "workspace", "campaign", "total_estimate", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["job", "campaign", "created_by"]


@admin.action(description="End the cool-down now")
def clear_cooldown(modeladmin, request, queryset):
    queryset.update(consecutive_failures=0, cooldown_until=None)


@admin.register(ProviderHealth)
class ProviderHealthAdmin(admin.ModelAdmin):
    list_display = ["provider", "consecutive_failures", "cooldown_until", "updated_at"]
    actions = [clear_cooldown]


admin.site.register(EngineLease)
