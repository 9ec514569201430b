"""Recruiter workspace: accounts, interviews editor, candidates, review, audit and analytics.

Repositories here run short blocking transactions over the `Store`'s Engine (callers on the event
loop use `run_in_threadpool`), like `store.py`. Nothing here knows HTTP; `web/workspace/` does.
"""
