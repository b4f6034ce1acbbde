"""Adaptive quizzes: item bank (model, bank), grading, hints, selection and the engine.

Public API (see the team contract)::

    from tutor.quiz.engine import QuizEngine, QuizSession, ScenarioAnswer, GradeResult, Hint, QuizSummary
"""
