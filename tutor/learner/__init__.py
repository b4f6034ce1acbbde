"""The learner model: knowledge tracing (bkt, fit, params), spaced review (review), progress, simulation.

Public API (see the team contract)::

    from tutor.learner.progress import learner_progress
"""
