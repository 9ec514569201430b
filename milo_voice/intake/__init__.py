"""Candidate intake (issue 17): uploads (PDF, DOCX, ZIP, CSV), contact extraction, review-first
batches, ATS connectors (Greenhouse Assessment Partner, Workable) and the signed inbound webhook.

Uses `store`, `scoring` (the durable job table) and `outreach`; `workspace` turns a confirmed
review row into a candidate.
"""
