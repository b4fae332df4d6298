"""In-app notifications."""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    class Kind(models.TextChoices):
        QUESTION_ROUTED = "question_routed", "Question for your function"
        ANSWER_POSTED = "answer_posted", "New answer"
        ANSWER_ACCEPTED = "answer_accepted", "Answer accepted"
        FAQ_PROMOTED = "faq_promoted", "Answer made an FAQ entry"
        MENTIONED = "mentioned", "Mentioned you"
        COMMENT_POSTED = "comment_posted", "New comment on your post"
        REPLY_POSTED = "reply_posted", "New reply to your comment"
        MEMBERSHIP_REQUESTED = "membership_requested", "Request to join"
        MEMBERSHIP_APPROVED = "membership_approved", "Request to join approved"
        MEMBERSHIP_REJECTED = "membership_rejected", "Request to join rejected"
        COMMUNITY_INVITATION = "community_invitation", "Invitation to a community"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        MEMBER_ROLE_CHANGED = "member_role_changed", "Community role changed"
        MEMBER_REMOVED = "member_removed", "Removed from a community"
        POST_PINNED = "post_pinned", "Post pinned"
        QUESTION_ESCALATED = "question_escalated", "Question nobody answered yet"
        ANSWER_UNACCEPTED = "answer_unaccepted", "Accepted answer withdrawn"
        QUESTION_CLOSED = "question_closed", "Question closed as a duplicate"
        QA_COMMENT_POSTED = "qa_comment_posted", "New comment on a question"
        FAQ_NEEDS_REVIEW = "faq_needs_review", "FAQ entry needs review"
        QUESTION_REOPENED = "question_reopened", "Question reopened"
        APPROVAL_REQUESTED = "approval_requested", "Approval requested"
        APPROVAL_DECIDED = "approval_decided", "Approval decided"
        RESOLUTION_OFFERED = "resolution_offered", "Resolution offered to you"
        RESOLUTION_DECIDED = "resolution_decided", "Customer decided on a resolution"
        PROBLEM_REPORTED = "problem_reported", "Customer reported a problem"
        DECISION_NEEDED = "decision_needed", "A case waits for your decision"
        REPLACEMENT_SHIPPED = "replacement_shipped", "Replacement shipped to you"
        REPLACEMENT_TO_SHIP = "replacement_to_ship", "Replacement waiting to ship"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor_name = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300)
    # Names the event, e.g. "question:12"; with the recipient and kind it keeps
    # one event from notifying a person twice.
    subject_key = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when the notification's e-mail is handed to the SMTP server, so a
    # retried task or a repeated event never e-mails it twice.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "subject_key"],
                name="notification_once_per_event",
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class EmailPreference(models.Model):
    """A person's choice to get notifications by e-mail; no row means yes."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="email_preference",
    )
    notification_emails = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        state = "on" if self.notification_emails else "off"
        return f"notification e-mail {state} for {self.person_id}"
