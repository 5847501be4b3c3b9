from django.contrib import admin, messages

from mediastudio.jobs.models import Job
from mediastudio.jobs.services import IllegalTransition, job_cancel, job_retry


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "title", "workspace", "status", "progress", "attempts", "estimated_cost", "actual_cost", "created_at"]
    list_filter = ["status", "kind", "workspace"]
    search_fields = ["id", "title", "message", "error"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["retry_jobs", "cancel_jobs"]

    @admin.action(description="Retry selected failed or canceled jobs")
    def retry_jobs(self, request, queryset):
        done = 0
        for job in queryset:
            try:
                job_retry(job=job)
                done += 1
            except IllegalTransition:
                pass
        self.message_user(request, f"{done} job(s) queued again.", messages.SUCCESS)

    @admin.action(description="Cancel selected queued or running jobs")
    def cancel_jobs(self, request, queryset):
        done = 0
        for job in queryset:
            try:
                job_cancel(job=job)
                done += 1
            except IllegalTransition:
                pass
        self.message_user(request, f"{done} job(s) canceled.", messages.SUCCESS)
