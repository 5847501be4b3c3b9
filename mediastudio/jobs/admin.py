from django.contrib import admin, messages

from mediastudio.jobs.models import Job
from mediastudio.jobs.services import IllegalTransition, job_cancel, job_retry


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "title", "workspace", "status", "progress", "attempts", "estimated_cost", "actual_cost", "created_at"]
    list_filter = ["status", "kind", "workspace"]
    list_select_related = ["workspace"]
    search_fields = ["id", "title", "message", "error"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["retry_jobs", "cancel_jobs"]

    def has_add_permission(self, request):
        # Jobs are created by the services that run them (a job here would have no workspace or task).
        return False

    def _apply(self, request, queryset, change, *, done_text: str, skipped_text: str) -> None:
        done, skipped = 0, []
        for job in queryset:
            try:
                change(job=job)
                done += 1
            except IllegalTransition as exc:
                skipped.append(exc.current)
        if done:
            self.message_user(request, f"{done} job(s) {done_text}.", messages.SUCCESS)
        if skipped:
            states = ", ".join(sorted(set(skipped)))
            self.message_user(request, f"{len(skipped)} job(s) {skipped_text} ({states}).", messages.WARNING)

    @admin.action(description="Retry selected failed or canceled jobs")
    def retry_jobs(self, request, queryset):
        self._apply(request, queryset, job_retry, done_text="queued again",
                    skipped_text="not retried: only failed or canceled jobs can be")

    @admin.action(description="Cancel selected queued or running jobs")
    def cancel_jobs(self, request, queryset):
        self._apply(request, queryset, job_cancel, done_text="canceled",
                    skipped_text="not canceled: only queued or running jobs can be")
