"""Instructor reports: the class, one learner, items, content gaps and the tutoring effect.

``service.Reports`` is the way in (it checks the caller's ``access.Grant``);
``queries`` holds the SQL, one module per report computes it, ``tables``
renders any report as a text table, CSV or JSON, and ``export`` saves one.
"""
