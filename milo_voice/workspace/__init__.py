"""Recruiter workspace: accounts, interviews editor, candidates, review, audit and analytics.

Repositories here subclass `milo_voice.store.repo.Repo`: short blocking transactions over the shared
Engine (callers on the event loop use `run_in_threadpool`). The workspace is the one writer of
interviews, questions and candidates. Nothing here knows HTTP; `web/workspace/` does.
"""
