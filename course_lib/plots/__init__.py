"""Figures for the notebooks, so a notebook cell stays about the idea it shows.

Every `plot_` function draws with pyplot (so Jupyter's inline backend shows the figure at the
end of the cell), returns what it drew (a `Figure` for several panels, an `Axes`
otherwise), and accepts plain sequences or numpy arrays. Most take `ax=` to draw into
an existing axes. Where a notebook prints what a figure shows, a helper beside it returns
those numbers (or a Markdown table). One module per topic; every function is available
from here.
"""
from .batching import plot_batch_size_sweep, plot_epoch_batches, plot_iterations_per_epoch
from .classification import plot_confusion_matrix, plot_most_confident_mistakes, plot_reliability_diagram
from .gradients import plot_finite_difference_errors, plot_gradient_check, plot_layer_statistics
from .images import plot_digits, plot_weight_image
from .optimizers import (
    plot_lr_sensitivity, plot_optimizer_comparison, plot_trajectories,
    plot_values_along_trajectories,
)
from .regularization import (
    plot_augmentations, plot_gradient_norms, plot_overfitting, plot_seed_comparison, plot_validation_curves,
    plot_weight_histograms,
)
from .schedules import plot_lr_finder, plot_lr_schedules, plot_schedule_comparison, plot_schedule_grid
from .search import plot_grid_heatmaps, plot_intermediate_values, plot_search_progress
from .text import (
    LengthBins, NgramWeights, WrongReview, accuracy_by_length, most_confidently_wrong, ngram_label,
    plot_accuracy_by_length, plot_top_ngrams, positive_probabilities, probe_table, sentiment, shorten_review,
    top_ngrams, wrong_reviews_table,
)
from .transfer import plot_transfer_curves
from .training import (
    plot_early_stopping, plot_learning_rate_sweep, plot_loss_curves,
    plot_losses_by_iteration_and_epoch, plot_training_curves,
)

__all__ = [
    "LengthBins",
    "NgramWeights",
    "WrongReview",
    "accuracy_by_length",
    "most_confidently_wrong",
    "ngram_label",
    "plot_accuracy_by_length",
    "plot_augmentations",
    "plot_batch_size_sweep",
    "plot_confusion_matrix",
    "plot_digits",
    "plot_early_stopping",
    "plot_epoch_batches",
    "plot_finite_difference_errors",
    "plot_gradient_check",
    "plot_gradient_norms",
    "plot_grid_heatmaps",
    "plot_intermediate_values",
    "plot_iterations_per_epoch",
    "plot_layer_statistics",
    "plot_learning_rate_sweep",
    "plot_loss_curves",
    "plot_losses_by_iteration_and_epoch",
    "plot_lr_finder",
    "plot_lr_schedules",
    "plot_lr_sensitivity",
    "plot_most_confident_mistakes",
    "plot_optimizer_comparison",
    "plot_overfitting",
    "plot_reliability_diagram",
    "plot_schedule_comparison",
    "plot_schedule_grid",
    "plot_search_progress",
    "plot_seed_comparison",
    "plot_training_curves",
    "plot_top_ngrams",
    "plot_transfer_curves",
    "plot_trajectories",
    "plot_validation_curves",
    "plot_values_along_trajectories",
    "plot_weight_histograms",
    "plot_weight_image",
    "positive_probabilities",
    "probe_table",
    "sentiment",
    "shorten_review",
    "top_ngrams",
    "wrong_reviews_table",
]
