"""`flask --app course dev`: the authors' development server.

A plugin command (pyproject entry point) in a module of its own: it builds the app with
`create_app`, and create_app registers the operator commands of course.cli, so the two
cannot share a module without importing each other. Flask imports every plugin command's
module on every `flask` invocation, `--help` included, so the content loader (pydantic
and the kinds' models) is imported only when the server starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from werkzeug.serving import is_running_from_reloader, run_simple

from course import create_app
from course.config import content_dir_from_environment
from course.content.errors import ContentError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


@click.command("dev")
@click.option("--port", default=5000, show_default=True, help="Port on 127.0.0.1.")
def dev_server(port: int) -> None:
    """Serve on 127.0.0.1 with the debugger, restarting when code or a course file changes.

    The app reads the course once at start-up and `flask run --debug` restarts only for
    Python files, so an author editing a lesson would see the old text. A plugin command
    (no app is built to find it), so broken content does not stop it: the page lists the
    problems until a saved fix restarts the server.
    """
    from course.content.loader import content_files

    watched = [str(path) for path in content_files(content_dir_from_environment())
               if path.exists()]
    # Only the reloader's child serves; the watching parent never calls the app.
    app = _app_or_problems() if is_running_from_reloader() else _problems_page("")
    run_simple("127.0.0.1", port, app, use_reloader=True, use_debugger=True,
               extra_files=watched)


def _app_or_problems() -> WSGIApplication:
    try:
        app = create_app()
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(f"ERROR {problem}", err=True)
        return _problems_page(str(exc))
    app.debug = True  # errors reach the debugger; templates reload too
    return app


def _problems_page(problems: str) -> WSGIApplication:
    body = ("The course files have problems, so the app cannot start. Fix them and save: "
            "the server restarts by itself; then reload this page.\n\n" + problems).encode()

    def problems_page(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        start_response("503 Service Unavailable",
                       [("Content-Type", "text/plain; charset=utf-8")])
        return [body]
    return problems_page
