"""ipywidgets panels for the notebooks: move a control, see the idea change.

Each panel is a small class holding its controls as attributes (so tests and curious
students can set them from code) and exposing the assembled widget as `.widget`; the
panel object itself displays as that widget in Jupyter. Updates are computed in the
kernel within a fraction of a second; figures are drawn with matplotlib's object API
(not pyplot, so nothing is shown twice) and handed to an `Image` widget as PNG bytes
(`_figure`). One module per assignment's topic: `epochs` (01), `initialization` (02),
`optimizers` (03), `augmentation` (05), `reviews` (07).
"""
from .augmentation import AugmentationExplorer, augmentation_explorer
from .epochs import EpochExplorer, epoch_explorer
from .initialization import KAIMING, NORMAL, ORTHOGONAL, XAVIER, InitExplorer, init_explorer
from .optimizers import OptimizerExplorer, optimizer_explorer
from .reviews import ReviewExplorer, review_explorer

__all__ = ["AugmentationExplorer", "EpochExplorer", "InitExplorer", "OptimizerExplorer", "ReviewExplorer",
           "augmentation_explorer", "epoch_explorer", "init_explorer", "optimizer_explorer", "review_explorer"]
