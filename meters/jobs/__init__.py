"""Meter jobs: every read and write on a meter as one durable, prioritised, verified job.

The public interface (docs/jobs.md): ``meters.jobs.services`` (``job_submit``, ``job_cancel``,
``job_wait``), ``meters.jobs.selectors``, and ``meters.jobs.kinds`` (``JobKind``,
``register_kind``) for apps that add kinds of their own.
"""
