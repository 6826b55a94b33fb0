"""Show the buttons that lead to the book's repository only when it has one.

A page's repository, issues and "view source" buttons, and its Binder and Colab launch
buttons, all point into the repository named by ``repository.url`` in ``_config.yml``
(Sphinx's ``html_theme_options["repository_url"]``). Until that repository is public, each of
them would send a reader to an error page. This extension makes that one setting decide:
with an empty URL it switches those buttons off; with a URL it leaves the buttons that
``_config.yml`` asks for as they are. Buttons that work from the built book alone (download
the notebook, full screen, search) are not touched.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

REPOSITORY_BUTTONS = (
    "use_repository_button",
    "use_issues_button",
    "use_source_button",
    "use_edit_page_button",
)
# Launch providers that open the notebook from the repository (Thebe runs it on Binder).
REPOSITORY_LAUNCHERS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "thebe")


def without_repository_buttons(options: dict[str, Any]) -> dict[str, Any]:
    """Return theme options with every repository-dependent button off, if no URL is set."""
    if options.get("repository_url"):
        return options
    kept = dict(options)
    for button in REPOSITORY_BUTTONS:
        kept[button] = False
    launchers = options.get("launch_buttons") or {}
    kept["launch_buttons"] = {
        key: value for key, value in launchers.items() if key not in REPOSITORY_LAUNCHERS
    }
    return kept


def hide_buttons_without_repository(app: Sphinx, config: Config) -> None:
    """Apply :func:`without_repository_buttons` to the configured theme options."""
    config.html_theme_options = without_repository_buttons(config.html_theme_options)


def setup(app: Sphinx) -> dict[str, object]:
    """Register the extension with Sphinx."""
    app.connect("config-inited", hide_buttons_without_repository)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
