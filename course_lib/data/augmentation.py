"""Data augmentation for digits, on torch tensors: shifts, rotations, elastic distortion,
pixel noise, and the two that mix pairs of images, mixup and CutMix.

Images are float tensors of shape [N, H, W] or [N, C, H, W] (MNIST: [N, 28, 28] or
[N, 1, 28, 28]); every function returns new images of the same shape, dtype and device,
drawing one random transformation per image from `generator`, a `torch.Generator`, so
the same seed gives the same images and torch's global generator is never used.

Each transformation is one a handwritten digit survives: a digit written a little
off-centre, tilted, wobbly or on a noisy scan is still that digit. A horizontal flip is not
(a flipped 2, 3, 4, 5, 7 or 9 is no digit at all, and a rotation of 180 degrees turns 6
into 9). Mixup and CutMix change the labels too: each image is blended with (mixup) or
gets a rectangle pasted from (CutMix) a partner image, and the target becomes the two
one-hot labels mixed in the same proportion.

`gaussian_noise` and `cutmix` follow torchvision.transforms.v2's GaussianNoise and CutMix
(argument names, defaults, the box and the label weight), except that a partner is given by a
random permutation of the batch, as in `mixup`, where torchvision pairs each image with its
neighbour in the (shuffled) batch.
"""
import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F


def _check_images(images):
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch tensor, got {type(images).__name__}")
    if images.ndim not in (3, 4):
        raise ValueError(f"images must have shape [N, H, W] or [N, C, H, W], got {list(images.shape)}")
    if not images.is_floating_point():
        raise TypeError(f"images must be floating point (e.g. scaled to [0, 1]), got dtype {images.dtype}")


def _check_generator(generator):
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator (e.g. torch.Generator().manual_seed(0)), "
                        f"got {type(generator).__name__}")


def _check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")


def _as_4d(images):
    """images as [N, C, H, W], and a function giving a result back the input's shape."""
    if images.ndim == 4:
        return images, lambda result: result
    return images.unsqueeze(1), lambda result: result.squeeze(1)


def shift(images, shifts):
    """images moved by whole pixels, vacated pixels zero: shifts is [N, 2] integers (down,
    right) per image, so output[n, ..., i, j] = images[n, ..., i - down, j - right]."""
    _check_images(images)
    shifts = torch.as_tensor(shifts, device=images.device)
    if shifts.shape != (images.shape[0], 2) or shifts.is_floating_point():
        raise ValueError(f"shifts must be [N, 2] integers (down, right), N = {images.shape[0]}, "
                         f"got shape {list(shifts.shape)} of dtype {shifts.dtype}")
    batch, undo = _as_4d(images)
    height, width = batch.shape[-2:]
    margin = int(shifts.abs().max()) if shifts.numel() else 0
    padded = F.pad(batch, (margin, margin, margin, margin))
    rows = torch.arange(height, device=images.device) + margin - shifts[:, :1]  # [N, H]
    columns = torch.arange(width, device=images.device) + margin - shifts[:, 1:]  # [N, W]
    samples = torch.arange(batch.shape[0], device=images.device)[:, None, None, None]
    channels = torch.arange(batch.shape[1], device=images.device)[None, :, None, None]
    return undo(padded[samples, channels, rows[:, None, :, None], columns[:, None, None, :]])


def random_shift(images, max_shift, *, generator):
    """images each moved by a random whole number of pixels, from -max_shift to max_shift
    down and right independently, with zero fill (an MNIST digit sits in a 20x20 box in a
    28x28 image: shifts of 2 or 3 pixels keep it whole)."""
    _check_images(images)
    _check_generator(generator)
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative whole number of pixels, got {max_shift!r}")
    shifts = torch.randint(-max_shift, max_shift + 1, (images.shape[0], 2), generator=generator,
                           device=generator.device)
    return shift(images, shifts)


def _sample(batch, grid):
    # align_corners=False: the grid's -1 and 1 are the outer edges of the border pixels,
    # so a pixel centre maps to a pixel centre and the identity grid returns the image
    return F.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def rotate(images, degrees):
    """images rotated about their centres by `degrees` (a number, or one per image),
    counter-clockwise as displayed (row 0 at the top) for positive angles, by bilinear
    interpolation, with zeros where the rotated image does not reach."""
    _check_images(images)
    batch, undo = _as_4d(images)
    radians = torch.deg2rad(torch.as_tensor(degrees, dtype=images.dtype, device=images.device))
    if radians.shape not in ((), (batch.shape[0],)):
        raise ValueError(f"degrees must be one angle or one per image ({batch.shape[0]}), "
                         f"got shape {list(radians.shape)}")
    radians = radians.expand(batch.shape[0])
    cos, sin, zero = torch.cos(radians), torch.sin(radians), torch.zeros_like(radians)
    # the grid says where each output pixel is read from: the input point rotated back
    # clockwise. In (x right, y down) coordinates that is [[cos, -sin], [sin, cos]].
    theta = torch.stack([torch.stack([cos, -sin, zero], dim=1), torch.stack([sin, cos, zero], dim=1)], dim=1)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return undo(_sample(batch, grid))


def random_rotation(images, max_degrees, *, generator):
    """images each rotated by an angle drawn uniformly from [-max_degrees, max_degrees]
    (10 to 15 degrees suits digits; much more and a 1 leans like a 7)."""
    _check_images(images)
    _check_generator(generator)
    _check_non_negative("max_degrees", max_degrees)
    uniform = torch.rand(images.shape[0], generator=generator, device=generator.device, dtype=torch.float64)
    return rotate(images, ((2 * uniform - 1) * max_degrees).to(images.dtype).to(images.device))


def _gaussian_matrix(size, sigma, dtype):
    """[size, size] matrix whose product with a signal is its convolution with a Gaussian of
    standard deviation sigma, truncated at 3 sigma and normalised, zero beyond the border."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(size, dtype=dtype)
    distances = offsets[:, None] - offsets[None, :]
    kernel = torch.exp(-distances**2 / (2 * sigma**2)) * (distances.abs() <= radius)
    offsets = torch.arange(-radius, radius + 1, dtype=dtype)
    return kernel / torch.exp(-offsets**2 / (2 * sigma**2)).sum()


def _gaussian_blur(fields, sigma):
    """fields [..., H, W] smoothed by a Gaussian along both axes: as a separable
    convolution, but written as two matrix products, which run much faster on small images."""
    height, width = fields.shape[-2:]
    rows = _gaussian_matrix(height, sigma, fields.dtype).to(fields.device)
    columns = _gaussian_matrix(width, sigma, fields.dtype).to(fields.device)
    return rows @ fields @ columns.T


def elastic_distortion(images, alpha, sigma, *, generator):
    """images warped by smooth random displacement fields, as Simard, Steinkraus and Platt
    (2003): every pixel gets a displacement drawn uniformly from [-1, 1] in each direction,
    the fields are smoothed by a Gaussian of standard deviation `sigma` pixels (small
    sigma: noise; large: almost a translation) and scaled by `alpha` pixels, and each output
    pixel is read, bilinearly, from where its displacement points. Simard et al. used
    sigma = 4, alpha = 34 on MNIST. alpha = 0 returns the images unchanged."""
    _check_images(images)
    _check_generator(generator)
    _check_non_negative("alpha", alpha)
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not sigma > 0:
        raise ValueError(f"sigma must be a positive number of pixels, got {sigma!r}")
    batch, undo = _as_4d(images)
    count, _, height, width = batch.shape
    uniform = torch.rand((count, 2, height, width), generator=generator, device=generator.device,
                         dtype=torch.float64)
    # blurred in the images' dtype: float64 convolutions are many times slower than float32
    displacement = alpha * _gaussian_blur((2 * uniform - 1).to(images.dtype), sigma)  # [N, (dx, dy), H, W], pixels
    # grid_sample's coordinates run from -1 to 1 across the image: a pixel is 2 / size wide
    displacement = torch.stack([displacement[:, 0] * 2 / width, displacement[:, 1] * 2 / height], dim=-1)
    identity = torch.eye(2, 3, dtype=images.dtype).expand(count, 2, 3)
    grid = F.affine_grid(identity, [count, 1, height, width], align_corners=False) + displacement
    return undo(_sample(batch, grid.to(images.device)))


def gaussian_noise(images, sigma=0.1, *, mean=0.0, clip=True, generator):
    """images plus independent Gaussian noise on every pixel, `mean + sigma * N(0, 1)`, clamped
    to [0, 1] with `clip` (for images scaled to [0, 1]), as
    torchvision.transforms.v2.GaussianNoise(mean, sigma, clip). sigma = 0 and mean = 0 return
    the images (clamped)."""
    _check_images(images)
    _check_generator(generator)
    _check_non_negative("sigma", sigma)
    noise = torch.randn(images.shape, generator=generator, device=generator.device, dtype=images.dtype)
    noisy = images + (mean + sigma * noise).to(images.device)
    return noisy.clamp(0, 1) if clip else noisy


def _check_batch(inputs, targets, num_classes):
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point() or inputs.ndim < 1:
        raise TypeError("inputs must be a floating-point torch tensor with the batch along dim 0")
    if not isinstance(targets, torch.Tensor) or targets.is_floating_point() or targets.shape != inputs.shape[:1]:
        raise ValueError(f"targets must be {inputs.shape[0]} class indices (an integer tensor), one per input")
    if targets.numel() and (targets.min() < 0 or targets.max() >= num_classes):
        raise ValueError(f"targets must be class indices from 0 to {num_classes - 1}, got values from "
                         f"{int(targets.min())} to {int(targets.max())}")


def _partners_and_lam(count, alpha, generator):
    """A random permutation of the batch (the partner of sample i is sample permutation[i])
    and lam ~ Beta(alpha, alpha) (alpha = 0: lam = 1), both drawn from `generator`."""
    permutation = torch.randperm(count, generator=generator, device=generator.device)
    # torch's Beta sampler takes no generator: seed numpy's from this generator instead
    seed = int(torch.randint(0, 2**62, (), generator=generator, device=generator.device))
    lam = 1.0 if alpha == 0 else float(np.random.default_rng(seed).beta(alpha, alpha))
    return permutation, lam


def _mixed_targets(targets, permutation, lam, num_classes, dtype):
    """lam * one_hot(targets) + (1 - lam) * one_hot(targets[permutation]), [N, num_classes]."""
    one_hot = F.one_hot(targets.long(), num_classes).to(dtype)
    return lam * one_hot + (1 - lam) * one_hot[permutation.to(targets.device)]


def mixup(inputs, targets, alpha, *, generator, num_classes):
    """(mixed_inputs, soft_targets) of mixup (Zhang et al. 2018): the batch blended with a
    shuffled copy of itself, lam * inputs + (1 - lam) * inputs[perm], and the one-hot
    targets blended alike, with one lam ~ Beta(alpha, alpha) per batch (alpha = 0: lam = 1,
    no mixing).

    The loss is `F.cross_entropy(logits, soft_targets)`, which takes class probabilities as
    targets and equals lam * CE(logits, targets) + (1 - lam) * CE(logits, targets[perm]).
    """
    _check_batch(inputs, targets, num_classes)
    _check_generator(generator)
    _check_non_negative("alpha", alpha)
    permutation, lam = _partners_and_lam(inputs.shape[0], alpha, generator)
    mixed_inputs = lam * inputs + (1 - lam) * inputs[permutation.to(inputs.device)]
    return mixed_inputs, _mixed_targets(targets, permutation, lam, num_classes, inputs.dtype)


def cutmix_box(height, width, lam, center):
    """The rectangle CutMix pastes into an image of `height` x `width` pixels, as
    torchvision.transforms.v2.CutMix draws it: centred on the pixel `center` = (row, column),
    with half-sides int(sqrt(1 - lam) / 2 * height) and int(sqrt(1 - lam) / 2 * width), cut off
    at the image's edges. Returns (top, left, bottom, right): rows top:bottom and columns
    left:right come from the partner. Uncut, the box covers about a fraction 1 - lam of the
    image; cut at an edge, less."""
    if not 0 <= lam <= 1:
        raise ValueError(f"lam must be between 0 and 1, got {lam!r}")
    row, column = (int(index) for index in center)
    if not (0 <= row < height and 0 <= column < width):
        raise ValueError(f"center must be a pixel (row, column) of the {height} x {width} image, got {center!r}")
    half = 0.5 * math.sqrt(1.0 - lam)
    half_height, half_width = int(half * height), int(half * width)
    return (max(row - half_height, 0), max(column - half_width, 0),
            min(row + half_height, height), min(column + half_width, width))


def cutmix(inputs, targets, alpha=1.0, *, generator, num_classes):
    """(mixed_inputs, soft_targets) of CutMix (Yun et al. 2019): every image of the batch gets
    the same rectangle pasted in from its partner, inputs[perm], and the one-hot targets are
    blended in proportion to the areas: weight lam' = 1 - (area of the box) / (H * W) for the
    image's own label, 1 - lam' for its partner's.

    As torchvision.transforms.v2.CutMix(alpha=1.0): lam ~ Beta(alpha, alpha) (alpha = 0: lam =
    1, no box), a centre drawn uniformly over the pixels, and `cutmix_box(H, W, lam, centre)`;
    lam' is lam corrected for a box cut off at an edge. inputs are images [N, H, W] or [N, C,
    H, W]. The loss is `F.cross_entropy(logits, soft_targets)`, as for mixup.
    """
    _check_images(inputs)
    _check_batch(inputs, targets, num_classes)
    _check_generator(generator)
    _check_non_negative("alpha", alpha)
    permutation, lam = _partners_and_lam(inputs.shape[0], alpha, generator)
    height, width = inputs.shape[-2:]
    center = (int(torch.randint(height, (), generator=generator, device=generator.device)),
              int(torch.randint(width, (), generator=generator, device=generator.device)))
    top, left, bottom, right = cutmix_box(height, width, lam, center)
    mixed_inputs = inputs.clone()
    mixed_inputs[..., top:bottom, left:right] = inputs[permutation.to(inputs.device)][..., top:bottom, left:right]
    box_lam = 1.0 - (bottom - top) * (right - left) / (height * width)
    return mixed_inputs, _mixed_targets(targets, permutation, box_lam, num_classes, inputs.dtype)


class AugmentingCollate:
    """A DataLoader `collate_fn` that augments every batch as it is drawn, so each epoch
    sees new variants of the same images:

        collate = AugmentingCollate(max_shift=2, max_degrees=12, seed=1)
        loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True, collate_fn=collate)

    The pairs (flat or [H, W] image, class index) are stacked, viewed as `image_shape`,
    randomly shifted (`max_shift` pixels), rotated (`max_degrees`), elastically distorted
    (`elastic_alpha`, `elastic_sigma`: no distortion at alpha 0), given Gaussian pixel noise
    (`noise_sigma`, clipped to [0, 1]), in that order, and given back in their original
    shape. Pixels moved in from outside the image take the value `fill`, as in
    torchvision's RandomAffine: 0 is the background of images scaled to [0, 1]; for images
    already standardised with (mean, std), pass fill=-mean / std, the background's new value. With `cutmix_alpha` > 0 or `mixup_alpha` > 0 (one of the two) the batch is then
    mixed, and the targets become [N, num_classes] soft targets (F.cross_entropy takes them
    as they are). All draws come from the collate's own torch.Generator seeded with `seed`;
    its state is in `state_dict()`.
    """

    def __init__(self, *, max_shift=0, max_degrees=0.0, elastic_alpha=0.0, elastic_sigma=4.0,
                 noise_sigma=0.0, mixup_alpha=0.0, cutmix_alpha=0.0, num_classes=None, image_shape=(28, 28),
                 fill=0.0, seed=0):
        _check_non_negative("elastic_sigma", elastic_sigma)
        _check_non_negative("noise_sigma", noise_sigma)
        _check_non_negative("mixup_alpha", mixup_alpha)
        _check_non_negative("cutmix_alpha", cutmix_alpha)
        if mixup_alpha and cutmix_alpha:
            raise ValueError("mix a batch by mixup or by CutMix, not both: give mixup_alpha or cutmix_alpha")
        if (mixup_alpha or cutmix_alpha) and num_classes is None:
            raise ValueError("mixup and CutMix need num_classes, the length of their soft targets")
        self.max_shift, self.max_degrees = max_shift, max_degrees
        self.elastic_alpha, self.elastic_sigma = elastic_alpha, elastic_sigma
        self.noise_sigma = noise_sigma
        self.mixup_alpha, self.cutmix_alpha, self.num_classes = mixup_alpha, cutmix_alpha, num_classes
        self.image_shape = tuple(image_shape)
        self.fill = fill
        self.generator = torch.Generator().manual_seed(seed)

    def augment(self, images):
        """[N, H, W] images with this collate's shift, rotation, distortion and noise applied."""
        # the geometric transforms fill with zeros: move the background to zero meanwhile
        images = images - self.fill
        if self.max_shift:
            images = random_shift(images, self.max_shift, generator=self.generator)
        if self.max_degrees:
            images = random_rotation(images, self.max_degrees, generator=self.generator)
        if self.elastic_alpha:
            images = elastic_distortion(images, self.elastic_alpha, self.elastic_sigma, generator=self.generator)
        images = images + self.fill
        if self.noise_sigma:
            images = gaussian_noise(images, self.noise_sigma, generator=self.generator)
        return images

    def __call__(self, pairs):
        inputs = torch.stack([image for image, _ in pairs])
        targets = torch.stack([torch.as_tensor(target) for _, target in pairs])
        images = self.augment(inputs.reshape(-1, *self.image_shape))
        if self.cutmix_alpha:
            images, targets = cutmix(images, targets, self.cutmix_alpha, generator=self.generator,
                                     num_classes=self.num_classes)
        inputs = images.reshape(inputs.shape)
        if self.mixup_alpha:
            inputs, targets = mixup(inputs, targets, self.mixup_alpha, generator=self.generator,
                                    num_classes=self.num_classes)
        return inputs, targets

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])
