"""The course as authors write it: files read, checked and turned into frozen data.

Flask-free; each exercise's kind-specific part is parsed with its kind's model, which the
grading kinds build from the field types in course.content.fields.
"""
