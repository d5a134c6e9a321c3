"""The course's assignments, in order: the one list every tool reads."""

ASSIGNMENTS = (
    "01_epochs_iterations",
    "02_backprop",
    "03_optimizers",
    "04_schedules",
    "05_regularization",
    "06_mnist",
    "07_imdb",
)
