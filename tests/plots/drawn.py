"""What a test reads back from a drawn figure."""


def line_labels(ax):
    """The labels of `ax`'s lines that a legend would show (matplotlib hides those starting "_")."""
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
