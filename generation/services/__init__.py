"""Generation services (writes and side effects). Import from here:

    video_estimate, video_generation_create, video_generation_cancel, video_generation_retry,
    attempts_poll_due, attempt_apply_result, video_webhook_receive,
    video_batch_create, batch_estimate, variants_items, broll_items, product_items, transition_items,
    budget_reserve, budget_settle, BudgetExceeded,
    video_generation_wait, video_generation_step (create-and-wait)
"""

from generation.services.batches import (
    batch_estimate,
    batch_refresh,
    broll_items,
    product_items,
    transition_items,
    variants_items,
    video_batch_create,
)
from generation.services.budget import BudgetExceeded, budget_reserve, budget_settle
from generation.services.chain import (
    DEFAULT_TIER_CHAINS,
    TIERS,
    plan_candidates,
    provider_class,
    provider_get,
    provider_identifiers,
    tier_chains,
)
from generation.services.engine import (
    attempt_apply_result,
    attempt_step,
    video_estimate,
    video_generation_cancel,
    video_generation_create,
    video_generation_finalize,
    video_generation_retry,
    video_generation_run,
    video_request_build,
    video_webhook_receive,
)
from generation.services.polling import attempts_in_flight, attempts_poll_due, next_due_in
from generation.services.waiting import video_generation_step, video_generation_wait

__all__ = [
    "BudgetExceeded", "DEFAULT_TIER_CHAINS", "TIERS", "attempt_apply_result", "attempt_step", "attempts_in_flight",
    "attempts_poll_due", "batch_estimate", "batch_refresh", "broll_items", "budget_reserve", "budget_settle",
    "next_due_in", "plan_candidates", "product_items", "provider_class", "provider_get", "provider_identifiers",
    "tier_chains", "transition_items", "variants_items", "video_batch_create", "video_estimate",
    "video_generation_cancel", "video_generation_create", "video_generation_finalize", "video_generation_retry",
    "video_generation_run", "video_generation_step", "video_generation_wait", "video_request_build",
    "video_webhook_receive",
]
