"""The ``strata`` console script: the command line, run in this process."""

import sys

from ._native import main as _main


def main() -> None:
    sys.exit(_main(["strata", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
