"""The command group: user errors become one line on stderr, never a traceback."""

from __future__ import annotations

import errno
import os

import click

from activelabel import __version__
from activelabel.errors import ActiveLabelError, os_problem

DISK_ERRNOS = (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM)


class Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ActiveLabelError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:  # a read-only or full disk, a permission, ... outside the store
            if exc.filename is None and exc.errno not in DISK_ERRNOS:
                raise
            raise click.ClickException(os_problem(exc)) from None
        except KeyboardInterrupt:
            raise click.ClickException(
                "interrupted; what was saved before stays saved (labels already pulled are "
                "kept), the unfinished step was not: run the command again"
            ) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="activelabel")
def cli() -> None:
    """Active learning for text classification: pick which headlines to label next, label them
    in Label Studio, retrain, and see the accuracy climb against random sampling.

    \b
    A typical session:
      activelabel init work --corpus bbc        # a workspace on the built-in BBC headlines
      activelabel round work --rounds 3         # train, evaluate, select, send to annotators
      activelabel status work                   # one row per round
      activelabel simulate work && activelabel report work
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    from activelabel.cli import commands  # noqa: F401  (registers the sub-commands)

    cli(prog_name="activelabel")
