"""Grading a class: each submission runs in an isolated child; the grade is computed here.

See ``grader.Grader`` (one submission), ``gradebook.grade_class`` (a folder of them),
``gradescope`` (Gradescope's results and autograder bundle) and DESIGN.md "Grading".
"""
from .assignment import Assignment, AssignmentError, load_assignment
from .gradebook import grade_class
from .grader import STATUSES, Grade, Grader
from .submissions import Submission, find_submissions

__all__ = ["STATUSES", "Assignment", "AssignmentError", "Grade", "Grader", "Submission",
           "find_submissions", "grade_class", "load_assignment"]
