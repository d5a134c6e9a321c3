"""`course data`: where the datasets are, whether they verify, and downloading them."""
from ..data import imdb, locate, mnist
from ..errors import CourseError

# Each module offers SPLITS, check(split, root) and fill_cache().
DATASETS = {"mnist": mnist, "imdb": imdb}


def register(subparsers):
    parser = subparsers.add_parser(
        "data",
        help="check or download the datasets (MNIST, IMDB)",
        description=(
            "Datasets are looked for in the loaders' root= argument, then "
            f"${locate.DATA_DIR_VARIABLE}, then the per-user cache "
            f"({locate.cache_directory()})."),
    )
    commands = parser.add_subparsers(dest="data_command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="say where each dataset is and verify it",
        description=("For each dataset and split, say where it was found and verify it "
                     "(checksums, sizes); exit 1 if anything is missing or corrupt."),
    )
    _add_dataset_argument(check)
    check.add_argument("--root", metavar="DIR",
                       help="search DIR first, as the loaders' root= argument does")
    check.set_defaults(run=run_check)

    download = commands.add_parser(
        "download",
        help="download datasets into the per-user cache",
        description=("Download the datasets' published files that are missing from the "
                     f"per-user cache ({locate.cache_directory()}), verifying each."),
    )
    _add_dataset_argument(download)
    download.set_defaults(run=run_download)


def _add_dataset_argument(parser):
    parser.add_argument("datasets", nargs="*", metavar="DATASET",
                        help=f"{' or '.join(DATASETS)} (default: all)")


def _chosen(args):
    unknown = [name for name in args.datasets if name not in DATASETS]
    if unknown:
        raise CourseError(f"unknown dataset {', '.join(unknown)}; "
                          f"choose from {', '.join(DATASETS)}")
    return args.datasets or list(DATASETS)


def run_check(args):
    problems = 0
    for name in _chosen(args):
        module = DATASETS[name]
        for split in module.SPLITS:
            try:
                print(f"{name} {split}: ok: {module.check(split, args.root)}")
            except CourseError as error:
                problems += 1
                print(f"{name} {split}: PROBLEM: {error}")
    return 1 if problems else 0


def run_download(args):
    for name in _chosen(args):
        downloaded, present = DATASETS[name].fill_cache()
        for path in downloaded:
            print(f"{name}: downloaded and verified {path}")
        for path in present:
            print(f"{name}: already in the cache: {path}")
    return 0
