"""Interview stages (issue 18): what each stage type asks of the candidate and how it is judged.

Pure rules and types: stage specs (stored as JSON on `interview_stage.spec`), form answers and
their validation and skip logic, the resume screen, and the pipeline's next-step decision. The
workspace stores and moves candidates (`workspace.pipeline`); the web renders the pages.
"""
