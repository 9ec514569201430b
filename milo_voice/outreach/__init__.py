"""Candidate outreach (issue 16): invitations, reminders and nudges by email and SMS, the one
policy every send passes (quiet hours, caps, opt-outs, the company switch), and the durable
outbox that sends each message at most once."""
