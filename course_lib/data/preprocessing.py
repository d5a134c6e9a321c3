"""Turning raw datasets into what a model eats: flat float vectors, train/validation splits,
inputs standardized with the training split's statistics, one-hot labels."""
import numpy as np


def flatten_and_scale(images):
    """uint8 images [N, H, W] -> float32 [N, H*W] with pixel values scaled into [0, 1]."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        # Dividing by 255 is only right for 8-bit pixels; anything else was scaled already
        # or is not an image.
        raise ValueError(f"expected uint8 images with pixel values 0..255, "
                         f"got dtype {images.dtype}")
    if images.ndim < 2:
        raise ValueError(f"expected images of shape [N, H, W], got shape {images.shape}")
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


def _validation_count(validation_size, n_samples):
    if isinstance(validation_size, (bool, np.bool_)):
        raise ValueError(f"validation_size must be a count or a fraction, got {validation_size!r}")
    if isinstance(validation_size, (int, np.integer)):
        count = int(validation_size)
    elif isinstance(validation_size, (float, np.floating)):
        if not 0 < validation_size < 1:
            raise ValueError(f"a fractional validation_size must lie strictly between 0 and 1, "
                             f"got {validation_size}")
        # round, not ceil: 0.7 * 10 is 7.000000000000001 in floating point
        count = round(validation_size * n_samples)
    else:
        raise ValueError(f"validation_size must be an int count or a float fraction, "
                         f"got {type(validation_size).__name__}")
    if not 0 < count < n_samples:
        raise ValueError(f"validation_size={validation_size} leaves {count} of {n_samples} samples "
                         f"for validation; both splits need at least one sample")
    return count


def train_validation_split(X, y, validation_size, rng):
    """Shuffle with `rng` and split off a validation set: (X_train, y_train, X_val, y_val).

    `validation_size` is a number of samples (int) or a fraction of them (float in (0, 1)).
    """
    if len(X) != len(y):
        raise ValueError(f"X and y must hold the same number of samples, "
                         f"got len(X)={len(X)} and len(y)={len(y)}")
    n_validation = _validation_count(validation_size, len(X))
    order = rng.permutation(len(X))
    validation, train = order[:n_validation], order[n_validation:]
    return X[train], y[train], X[validation], y[validation]


def grouped_validation_split(groups, validation_size, rng):
    """Indices (train, validation) that keep each group — e.g. the film a review is about —
    on one side: whole groups, drawn in an order shuffled by `rng`, go to validation until it
    holds at least `validation_size` samples (a count, or a fraction in (0, 1)). Both index
    arrays are sorted, so shuffle before training.

    A random split of reviews puts reviews of one film on both sides, and a model that learns
    the film's name or cast scores on validation what it will not score on new films.
    """
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be one label per sample, got an array of shape {groups.shape}")
    n_validation = _validation_count(validation_size, len(groups))
    names, group_of_sample, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    order = rng.permutation(len(names))
    taken = order[:np.searchsorted(np.cumsum(sizes[order]), n_validation) + 1]
    in_validation = np.isin(group_of_sample, taken)
    if in_validation.all():
        raise ValueError(f"validation_size={validation_size} takes every group into validation; "
                         f"ask for fewer samples or use more groups than {len(names)}")
    return np.flatnonzero(~in_validation), np.flatnonzero(in_validation)


def mean_and_std(X):
    """The mean and standard deviation of all entries of X, as two Python floats (computed in
    float64; the standard deviation is the population one, numpy's default).

    Compute them on the training split only and standardize every split with them: the
    validation and test data then take no part in the transformation, as they take no part
    in training."""
    X = np.asarray(X)
    if X.size == 0:
        raise ValueError("cannot compute the mean and standard deviation of no values")
    return float(X.mean(dtype=np.float64)), float(X.std(dtype=np.float64))


def pixel_mean_and_std(images):
    """The mean and standard deviation of the pixel values of uint8 `images`, scaled into
    [0, 1], over every pixel of every image: two Python floats, the standard deviation the
    population one (as `mean_and_std`). `images` may have any shape ([N, H, W], [N, 1, H, W])
    and be a numpy array or a CPU torch tensor.

    Pass the training split: its statistics are what the inputs of every split are
    normalised with — for MNIST (0.1307, 0.3081), the numbers given to torchvision's
    `Normalize`."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images with pixel values 0..255, got dtype {images.dtype}")
    # scaling is linear, so the statistics of the scaled pixels are those of the raw ones / 255
    mean, std = mean_and_std(images)
    return mean / 255, std / 255


def standardize(X, mean, std):
    """(X - mean) / std, in X's floating-point dtype: inputs shifted and scaled by the training
    split's `mean_and_std`, what `torchvision.transforms.Normalize(mean, std)` does to a tensor."""
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"standardize expects floating-point inputs (scale images with "
                         f"flatten_and_scale first), got dtype {X.dtype}")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}: constant inputs cannot be standardized")
    return ((X - mean) / std).astype(X.dtype, copy=False)


def one_hot(tensor, num_classes=-1):
    """Class indices of any shape -> int64 array of shape tensor.shape + (num_classes,), with a
    1 at each index and 0 elsewhere, as `torch.nn.functional.one_hot`.

    num_classes=-1 takes one more than the largest index. torch raises RuntimeError for
    indices it cannot encode; this raises ValueError.
    """
    classes = np.asarray(tensor)
    if not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(f"one_hot needs integer class indices, got dtype {classes.dtype}")
    if classes.size and classes.min() < 0:
        raise ValueError(f"class indices must be non-negative, got {classes.min()}")
    if num_classes == -1:
        if classes.size == 0:
            raise ValueError("cannot infer num_classes from no class indices; pass num_classes")
        num_classes = int(classes.max()) + 1
    elif classes.size and classes.max() >= num_classes:
        raise ValueError(f"class indices must be smaller than num_classes={num_classes}, "
                         f"got {classes.max()}")
    return (classes[..., None] == np.arange(num_classes)).astype(np.int64)
