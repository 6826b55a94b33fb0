"""The book's cross-references, written out as text for the JupyterLite site's notebooks.

In the site each chapter is one notebook rendered by jupyterlab-myst, which knows nothing of
the rest of the book: a ``{numref}`` to a figure (the book's figure captions and labels live
in code-cell metadata, which jupyterlab-myst does not read), a ``{ref}`` or ``{eq}`` into
another chapter, a glossary ``{term}`` and a ``{cite}`` have nothing to point at there, and
would show a raw label or a warning sign. :class:`BookReferences` turns each into the text
the book prints for it, taken from the finished Sphinx build: ``Fig. 3.1``, ``(1.4)``,
``[Lee, 2020]``, a section's title with its chapter number, a term as plain text.

``{eq}`` to an equation of the same chapter stays a live reference: jupyterlab-myst numbers
the chapter's equations itself, and :meth:`BookReferences.frontmatter` makes it number them
as the book does (``3.1``, ``3.2``, ... in chapter 3). The book numbers only labelled
equations and MyST numbers every displayed one, so :func:`unnumbered_math` turns each
unlabelled ``$$`` block into a ``{math}`` directive that is not numbered.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

# {role}`content`; content may run over a line break ("The backpropagation equations\n<...>").
ROLE = re.compile(r"\{(numref|ref|eq|term|cite:p|cite:t)\}`([^`]+)`")
EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)


def unnumbered_math(source: str) -> str:
    """``source`` with its unlabelled ``$$`` blocks as unnumbered ``{math}`` directives.

    A block is a ``$$`` line, the equation, and a closing ``$$`` line; one whose closing
    line carries a ``(label)`` is numbered in the book and stays as it is.
    """
    lines, out, opened = source.split("\n"), [], None
    for line in lines:
        if opened is None:
            if line.rstrip() == "$$":
                opened = []
            else:
                out.append(line)
        elif line.startswith("$$"):
            if line.rstrip() == "$$":
                out += ["```{math}", ":enumerated: false", *opened, "```"]
            else:
                out += ["$$", *opened, line]
            opened = None
        else:
            opened.append(line)
    if opened is not None:  # no closing line: leave the text as it was
        out += ["$$", *opened]
    return "\n".join(out)


def split_target(content: str) -> tuple[str | None, str]:
    """``"text <target>"`` -> ``("text", "target")``; ``"target"`` -> ``(None, "target")``."""
    match = EXPLICIT.match(content.strip())
    if match:
        return " ".join(match.group(1).split()), match.group(2).strip()
    return None, content.strip()


def number(parts: tuple[int, ...]) -> str:
    """(3, 1) -> ``"3.1"``."""
    return ".".join(str(part) for part in parts)


class BookReferences:
    """What the built book prints for each cross-reference, for one chapter at a time.

    Parameters
    ----------
    app : Sphinx
        The application after its HTML build (its environment holds every label, number and
        citation of the book).
    """

    def __init__(self, app: Sphinx) -> None:
        self.app = app
        self.env = app.env
        std = self.env.domaindata["std"]
        self.labels, self.anonlabels = std["labels"], std["anonlabels"]
        self.equations = self.env.domaindata["math"]["objects"]

    def chapter(self, docname: str) -> str | None:
        """The chapter number of ``docname`` (``"3"``), or None for an unnumbered page."""
        parts = self.env.toc_secnumbers.get(docname, {}).get("")
        return number(parts) if parts else None

    def frontmatter(self, docname: str) -> dict:
        """MyST frontmatter that numbers the page's equations as the book does.

        A chapter's are ``3.1``, ``3.2``, ...; the unnumbered pages (the appendices) share one
        count in Sphinx, so an appendix's first equation may be (3): MyST starts there too.
        """
        chapter = self.chapter(docname)
        if chapter:
            return {"numbering": {"enumerator": f"{chapter}.%s"}}
        numbers = self.env.toc_fignumbers.get(docname, {}).get("displaymath", {}).values()
        first = min((parts[-1] for parts in numbers), default=1)
        return {"numbering": {"equation": {"start": first}}} if first > 1 else {}

    def rewrite(self, source: str, docname: str) -> str:
        """``source`` (a Markdown cell of ``docname``) with its references written out."""
        return ROLE.sub(lambda match: self.text(docname, *match.groups()), source)

    def text(self, docname: str, role: str, content: str) -> str:
        """The replacement of one ``{role}`content``` in ``docname``."""
        try:
            return self._text(docname, role, content)
        except KeyError as error:
            raise ExtensionError(
                f"expected a label the book defines in {{{role}}}`{content}` of {docname}, "
                f"got the unknown {error}"
            ) from None

    def _text(self, docname: str, role: str, content: str) -> str:
        explicit, target = split_target(content)
        if role == "term":
            return explicit or target
        if role == "numref":
            return self.figure(target)
        if role == "ref":
            return self.section(docname, explicit, target)
        if role == "eq":
            where, _ = self.equations[target]
            if where == docname:
                return f"{{eq}}`{content}`"
            return f"({self.equation(where, target)})"
        return self.citation(docname, role.split(":")[1], target)

    def figure(self, label: str) -> str:
        """``Fig. 3.1`` for a figure's label."""
        docname, labelid = self.anonlabels[label]
        parts = self.env.toc_fignumbers[docname]["figure"][labelid]
        return self.env.config.numfig_format["figure"] % number(parts)

    def equation(self, docname: str, label: str) -> str:
        """``3.1`` for an equation's label."""
        return number(self.env.toc_fignumbers[docname]["displaymath"][f"equation-{label}"])

    def section(self, docname: str, explicit: str | None, label: str) -> str:
        """A section's title (or the reference's own text), with its chapter if elsewhere."""
        target_doc = self.anonlabels[label][0]
        title = explicit or self.labels[label][2]
        chapter = self.chapter(target_doc)
        return f"{title} (chapter {chapter})" if chapter and target_doc != docname else title

    def citation(self, docname: str, kind: str, keys: str) -> str:
        """``Lee [2020]`` (``kind`` t) or ``[Lee, 2020]`` (p), as sphinxcontrib-bibtex prints."""
        domain = self.env.get_domain("cite")
        node = pending_xref("", refdomain="cite", reftype=kind, reftarget=keys)
        node.source, node.line = self.env.doc2path(docname), 0
        resolved = domain.resolve_xref(
            self.env, docname, self.app.builder, kind, keys, node, nodes.inline()
        )
        text = resolved.astext() if resolved is not None else ""
        if not text or any(key.strip() == text for key in keys.split(",")):
            raise ExtensionError(f"expected citation text for {keys!r} in {docname}, got {text!r}")
        return text
