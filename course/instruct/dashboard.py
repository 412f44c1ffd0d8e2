"""The instructor's landing page."""

from __future__ import annotations

from flask import render_template

from course.instruct.blueprint import bp


@bp.get("/")
def dashboard():
    return render_template("instruct/dashboard.html")
