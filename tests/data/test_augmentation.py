import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.data.augmentation import (
    AugmentingCollate, cutmix, cutmix_box, elastic_distortion, gaussian_noise, mixup, random_rotation,
    random_shift, rotate, shift,
)
from tests.strategies import SEEDS, assert_global_random_state_untouched


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def digits(seed, shape=(5, 28, 28), dtype=torch.float64):
    """Blobs in the middle of an empty border, as in MNIST, so shifts and rotations lose nothing."""
    images = torch.zeros(shape, dtype=dtype)
    height, width = shape[-2:]
    blob = (height - 2 * (height // 4 + 1), width - 2 * (width // 3 + 1))
    images[..., height // 4 + 1:height // 4 + 1 + blob[0], width // 3 + 1:width // 3 + 1 + blob[1]] = torch.rand(
        shape[:-2] + blob, generator=seeded(seed), dtype=dtype)
    return images


AUGMENTATIONS = {
    "shift": lambda images, generator: random_shift(images, 3, generator=generator),
    "rotation": lambda images, generator: random_rotation(images, 15, generator=generator),
    "elastic": lambda images, generator: elastic_distortion(images, 34, 4, generator=generator),
    "noise": lambda images, generator: gaussian_noise(images, 0.3, generator=generator),
    "mixup": lambda images, generator: mixup(images, torch.arange(len(images)) % 3, 0.4,
                                             generator=generator, num_classes=3)[0],
    "cutmix": lambda images, generator: cutmix(images, torch.arange(len(images)) % 3,
                                               generator=generator, num_classes=3)[0],
}


@pytest.mark.parametrize("name", AUGMENTATIONS)
@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 1, 28, 28), (3, 2, 9, 12)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_augmentations_keep_shape_and_dtype_and_are_reproducible(name, shape, dtype):
    augment, images = AUGMENTATIONS[name], digits(0, shape, dtype)
    first = augment(images, seeded(1))
    assert first.shape == images.shape and first.dtype == dtype
    torch.testing.assert_close(augment(images, seeded(1)), first, rtol=0, atol=0)
    assert not torch.equal(augment(images, seeded(2)), first)


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_augmentations_never_touch_the_global_generators(name):
    images = digits(0)
    assert_global_random_state_untouched(lambda: AUGMENTATIONS[name](images, seeded(1)))


def test_zero_strength_returns_the_images():
    images = digits(3, (4, 1, 28, 28))
    torch.testing.assert_close(random_shift(images, 0, generator=seeded()), images, rtol=0, atol=0)
    torch.testing.assert_close(random_rotation(images, 0, generator=seeded()), images, rtol=0, atol=1e-12)
    torch.testing.assert_close(elastic_distortion(images, 0, 4, generator=seeded()), images, rtol=0, atol=1e-12)
    mixed, soft = mixup(images, torch.tensor([0, 1, 2, 1]), 0, generator=seeded(), num_classes=3)
    torch.testing.assert_close(mixed, images, rtol=0, atol=0)
    torch.testing.assert_close(soft, F.one_hot(torch.tensor([0, 1, 2, 1]), 3).double(), rtol=0, atol=0)
    torch.testing.assert_close(gaussian_noise(images, 0, generator=seeded()), images, rtol=0, atol=0)
    cut, soft = cutmix(images, torch.tensor([0, 1, 2, 1]), 0, generator=seeded(), num_classes=3)
    torch.testing.assert_close(cut, images, rtol=0, atol=0)
    torch.testing.assert_close(soft, F.one_hot(torch.tensor([0, 1, 2, 1]), 3).double(), rtol=0, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_shift_moves_every_pixel_by_the_shift_and_keeps_the_mass_when_nothing_falls_off(seed):
    images = digits(seed)
    shifts = torch.randint(-5, 6, (5, 2), generator=seeded(seed))
    shifted = shift(images, shifts)
    for image, moved, (down, right) in zip(images, shifted, shifts.tolist(), strict=True):
        torch.testing.assert_close(moved, torch.roll(image, (down, right), dims=(0, 1)), rtol=0, atol=0)
    # the centre of mass moves by exactly the shift
    rows = torch.arange(28, dtype=torch.float64)
    for image, moved, (down, right) in zip(images, shifted, shifts.tolist(), strict=True):
        torch.testing.assert_close(moved.sum(), image.sum())
        centre = lambda x: torch.stack([(x.sum(1) * rows).sum(), (x.sum(0) * rows).sum()]) / x.sum()  # noqa: E731
        torch.testing.assert_close(centre(moved) - centre(image), torch.tensor([down, right], dtype=torch.float64))


def test_shift_fills_with_zeros_and_random_shift_stays_within_max_shift():
    image = torch.ones(1, 4, 4)
    expected = torch.zeros(1, 4, 4)
    expected[0, 1:, :3] = 1
    torch.testing.assert_close(shift(image, torch.tensor([[1, -1]])), expected, rtol=0, atol=0)
    images = digits(0, (200, 28, 28))
    shifted = random_shift(images, 2, generator=seeded())
    offsets = set()
    for image, moved in zip(images, shifted, strict=True):
        matches = [(down, right) for down in range(-2, 3) for right in range(-2, 3)
                   if torch.equal(moved, torch.roll(image, (down, right), dims=(0, 1)))]
        assert matches
        offsets.update(matches)
    assert len(offsets) == 25  # every shift from -2 to 2 in both directions occurs


@pytest.mark.parametrize("shape", [(3, 28, 28), (3, 1, 28, 28), (2, 3, 10, 10)])
def test_rotating_by_90_degrees_is_rot90(shape):
    images = torch.rand(shape, generator=seeded(), dtype=torch.float64)
    torch.testing.assert_close(rotate(images, 90.0), torch.rot90(images, 1, dims=(-2, -1)), rtol=0, atol=1e-12)
    torch.testing.assert_close(rotate(images, -90.0), torch.rot90(images, -1, dims=(-2, -1)), rtol=0, atol=1e-12)
    torch.testing.assert_close(rotate(images, torch.tensor([90.0, 180.0, 0.0])[:shape[0]]),
                               torch.stack([torch.rot90(image, k, dims=(-2, -1))
                                            for image, k in zip(images, [1, 2, 0], strict=False)]),
                               rtol=0, atol=1e-12)


def test_random_rotation_rotates_each_image_by_a_uniform_angle_within_the_limit():
    images = digits(0, (50, 28, 28))
    rotated = random_rotation(images, 10, generator=seeded())
    # bilinear interpolation smears a little mass over the edges of the blob, loses none
    torch.testing.assert_close(rotated.sum((1, 2)), images.sum((1, 2)), rtol=2e-2, atol=0)
    # the angles are 10 * (2u - 1) for u drawn by torch.rand from the generator, one per image
    angles = (2 * torch.rand(50, generator=seeded(), dtype=torch.float64) - 1) * 10
    torch.testing.assert_close(rotated, rotate(images, angles), rtol=0, atol=0)
    assert float(angles.min()) < -5 and float(angles.max()) > 5


def test_elastic_distortion_moves_pixels_smoothly_by_about_alpha_times_the_smoothed_noise():
    images = digits(0, (20, 28, 28))
    gentle = elastic_distortion(images, 8, 4, generator=seeded())
    strong = elastic_distortion(images, 34, 4, generator=seeded())
    change = lambda result: float((result - images).abs().mean())  # noqa: E731
    assert 0 < change(gentle) < change(strong)
    torch.testing.assert_close(gentle.sum((1, 2)), images.sum((1, 2)), rtol=0.15, atol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_mixup_is_one_convex_combination_of_the_batch_and_a_permutation_of_it(seed):
    generator = seeded(seed)
    inputs = torch.rand((8, 1, 6, 6), generator=generator, dtype=torch.float64)
    targets = torch.randint(0, 4, (8,), generator=generator)
    mixed, soft = mixup(inputs, targets, 0.4, generator=generator, num_classes=4)
    torch.testing.assert_close(soft.sum(1), torch.ones(8, dtype=torch.float64))
    assert bool((soft >= 0).all())
    # recover lam and the permutation: each row is lam * own + (1 - lam) * some other row
    one_hot = F.one_hot(targets, 4).double()
    lams, partners = [], []
    for row in range(8):
        if torch.allclose(mixed[row], inputs[row], rtol=0, atol=1e-12):  # the permutation left it in place
            torch.testing.assert_close(soft[row], one_hot[row])
            continue
        for partner in range(8):
            difference = inputs[row] - inputs[partner]
            if partner == row:
                continue
            lam = float(((mixed[row] - inputs[partner]) * difference).sum() / (difference**2).sum())
            if torch.allclose(mixed[row], lam * inputs[row] + (1 - lam) * inputs[partner], rtol=0, atol=1e-12):
                lams.append(lam), partners.append(partner)
                torch.testing.assert_close(soft[row], lam * one_hot[row] + (1 - lam) * one_hot[partner])
                break
        else:
            pytest.fail(f"row {row} is no mixture of itself and another row")
    assert np.allclose(lams, lams[0], rtol=0, atol=1e-10) and 0 <= lams[0] <= 1
    assert len(set(partners)) == len(partners)


def test_mixups_soft_target_cross_entropy_is_the_mixed_loss():
    generator = seeded(3)
    inputs, targets = torch.rand((6, 5), generator=generator, dtype=torch.float64), torch.tensor([0, 1, 2, 0, 1, 2])
    logits = torch.randn((6, 3), generator=generator, dtype=torch.float64)
    mixed, soft = mixup(inputs, targets, 1.0, generator=seeded(4), num_classes=3)
    permutation = torch.randperm(6, generator=seeded(4))
    lam = float(((mixed - inputs[permutation]) / (inputs - inputs[permutation]))[0, 0])
    expected = lam * F.cross_entropy(logits, targets) + (1 - lam) * F.cross_entropy(logits, targets[permutation])
    torch.testing.assert_close(F.cross_entropy(logits, soft), expected)


def test_gaussian_noise_adds_mean_plus_sigma_times_standard_normal_noise_and_clips_as_torchvision():
    images = digits(0, (4, 1, 28, 28))
    # torchvision.transforms.v2.functional.gaussian_noise: image + (mean + randn * sigma), clamped
    noise = torch.randn(images.shape, generator=seeded(1), dtype=images.dtype)
    torch.testing.assert_close(gaussian_noise(images, 0.3, generator=seeded(1)),
                               (images + 0.3 * noise).clamp(0, 1), rtol=0, atol=1e-15)
    torch.testing.assert_close(gaussian_noise(images, 0.3, mean=0.1, clip=False, generator=seeded(1)),
                               images + 0.1 + 0.3 * noise, rtol=0, atol=1e-15)
    grey = torch.full((100, 28, 28), 0.5, dtype=torch.float64)
    noisy = gaussian_noise(grey, 0.1, generator=seeded(2))  # 5 sigma from either bound: nothing clipped
    assert abs(float(noisy.mean()) - 0.5) < 1e-3 and abs(float(noisy.std()) - 0.1) < 1e-3


@pytest.mark.parametrize("height, width, lam, center, box", [
    (28, 28, 0.75, (14, 14), (7, 7, 21, 21)),      # half-sides int(0.25 * 28) = 7: a quarter of the image
    (28, 28, 0.75, (0, 27), (0, 20, 7, 28)),       # cut off at the top and right edges
    (28, 28, 1.0, (5, 9), (5, 9, 5, 9)),           # lam = 1: an empty box
    (28, 28, 0.0, (14, 14), (0, 0, 28, 28)),       # lam = 0: the whole image
    (9, 12, 0.5, (4, 6), (1, 2, 7, 10)),           # half-sides int(0.354 * 9) = 3, int(0.354 * 12) = 4
])
def test_cutmix_box_is_torchvisions(height, width, lam, center, box):
    assert cutmix_box(height, width, lam, center) == box


def changed_box(before, after):
    """(top, left, bottom, right) of the pixels where any image of the batch changed, or None."""
    rows, columns = torch.nonzero((before != after).flatten(0, -3).any(0), as_tuple=True)
    if not len(rows):
        return None
    return int(rows.min()), int(columns.min()), int(rows.max()) + 1, int(columns.max()) + 1


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(8, 28, 28), (8, 3, 10, 14)])
def test_cutmix_pastes_one_box_from_a_partner_and_weighs_the_labels_by_area(seed, shape):
    generator = seeded(seed)
    inputs = torch.rand(shape, generator=generator, dtype=torch.float64)  # every pixel tells its image
    targets = torch.randint(0, 5, (8,), generator=generator)
    mixed, soft = cutmix(inputs, targets, 1.0, generator=generator, num_classes=5)
    height, width = shape[-2:]
    box = changed_box(inputs, mixed)
    one_hot = F.one_hot(targets, 5).double()
    if box is None:  # lam close to 1: nothing pasted, every image keeps its own label
        torch.testing.assert_close(soft, one_hot, rtol=0, atol=0)
        return
    top, left, bottom, right = box
    inside = torch.zeros(height, width, dtype=torch.bool)
    inside[top:bottom, left:right] = True
    lam = 1 - (bottom - top) * (right - left) / (height * width)
    partners = []
    for row in range(8):
        torch.testing.assert_close(mixed[row][..., ~inside], inputs[row][..., ~inside], rtol=0, atol=0)
        sources = [other for other in range(8)
                   if torch.equal(mixed[row][..., inside], inputs[other][..., inside])]
        assert len(sources) == 1, f"image {row}: the box comes from no single image of the batch"
        partners.append(sources[0])
        torch.testing.assert_close(soft[row], lam * one_hot[row] + (1 - lam) * one_hot[sources[0]])
    assert sorted(partners) == list(range(8))  # a permutation of the batch


def test_cutmix_draws_lam_and_the_centre_uniformly_for_alpha_1():
    """alpha = 1: lam ~ Beta(1, 1) is uniform on [0, 1] and the centre uniform over the pixels,
    so the area pasted averages what cutmix_box gives over a grid of lams and every centre."""
    height, width = 12, 10
    expected_area = np.mean([(bottom - top) * (right - left) / (height * width)
                             for lam in np.linspace(0, 1, 401)[1:-1]
                             for top, left, bottom, right in (cutmix_box(height, width, lam, (row, column))
                                                              for row in range(height) for column in range(width))])
    generator = seeded(0)
    images, targets = torch.zeros(2, height, width, dtype=torch.float64), torch.tensor([0, 1])
    # the second image's label weighs on the first only when they swap, half the time
    partner_weights = [float(cutmix(images, targets, generator=generator, num_classes=2)[1][0, 1])
                       for _ in range(4_000)]
    assert np.mean(partner_weights) == pytest.approx(expected_area / 2, abs=0.01)


@pytest.mark.parametrize("call, error, message", [
    (lambda: random_shift(np.zeros((2, 28, 28)), 2, generator=seeded()), TypeError, "torch tensor"),
    (lambda: random_shift(torch.zeros(28, 28), 2, generator=seeded()), ValueError, r"\[N, H, W\]"),
    (lambda: random_shift(torch.zeros(2, 28, 28, dtype=torch.uint8), 2, generator=seeded()), TypeError,
     "floating point"),
    (lambda: random_shift(torch.zeros(2, 28, 28), -1, generator=seeded()), ValueError, "non-negative whole"),
    (lambda: random_shift(torch.zeros(2, 28, 28), 1.5, generator=seeded()), ValueError, "non-negative whole"),
    (lambda: random_shift(torch.zeros(2, 28, 28), 2, generator=np.random.default_rng()), TypeError,
     "torch.Generator"),
    (lambda: shift(torch.zeros(2, 28, 28), torch.zeros(3, 2, dtype=torch.long)), ValueError, r"\[N, 2\]"),
    (lambda: random_rotation(torch.zeros(2, 28, 28), -5, generator=seeded()), ValueError, "max_degrees"),
    (lambda: rotate(torch.zeros(2, 28, 28), torch.zeros(3)), ValueError, "one angle or one per image"),
    (lambda: elastic_distortion(torch.zeros(2, 28, 28), 34, 0, generator=seeded()), ValueError, "sigma"),
    (lambda: elastic_distortion(torch.zeros(2, 28, 28), -1, 4, generator=seeded()), ValueError, "alpha"),
    (lambda: mixup(torch.zeros(2, 3), torch.tensor([0, 3]), 0.2, generator=seeded(), num_classes=3), ValueError,
     "from 0 to 2, got values from 0 to 3"),
    (lambda: mixup(torch.zeros(2, 3), torch.tensor([0.0, 1.0]), 0.2, generator=seeded(), num_classes=3),
     ValueError, "class indices"),
    (lambda: mixup(torch.zeros(2, 3), torch.tensor([0, 1, 1]), 0.2, generator=seeded(), num_classes=3),
     ValueError, "2 class indices"),
    (lambda: gaussian_noise(torch.zeros(2, 28, 28), -0.1, generator=seeded()), ValueError, "sigma"),
    (lambda: cutmix(torch.zeros(2, 784), torch.tensor([0, 1]), generator=seeded(), num_classes=2), ValueError,
     r"\[N, H, W\]"),
    (lambda: cutmix(torch.zeros(2, 28, 28), torch.tensor([0, 2]), generator=seeded(), num_classes=2), ValueError,
     "from 0 to 1"),
    (lambda: cutmix_box(28, 28, 1.5, (3, 3)), ValueError, "lam"),
    (lambda: cutmix_box(28, 28, 0.5, (3, 28)), ValueError, "center"),
    (lambda: AugmentingCollate(mixup_alpha=0.2, cutmix_alpha=1.0, num_classes=3), ValueError, "not both"),
    (lambda: AugmentingCollate(cutmix_alpha=1.0), ValueError, "num_classes"),
])
def test_bad_arguments_are_explained(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_augmenting_collate_augments_each_batch_anew_and_keeps_the_input_shape():
    X = torch.rand(6, 784)
    y = torch.arange(6)
    pairs = list(zip(X, y))
    collate = AugmentingCollate(max_shift=2, max_degrees=10, elastic_alpha=8, seed=3)
    first, targets = collate(pairs)
    second, _ = collate(pairs)
    assert first.shape == X.shape and torch.equal(targets, y)
    assert not torch.equal(first, second)  # a new draw per batch
    generator = torch.Generator().manual_seed(3)
    images = X.reshape(-1, 28, 28)
    expected = elastic_distortion(random_rotation(random_shift(images, 2, generator=generator), 10, generator=generator),
                                  8, 4.0, generator=generator)
    assert torch.equal(first, expected.reshape(6, 784))


def test_augmenting_collate_fills_with_the_background_of_standardised_images():
    mean, std = 0.13, 0.31
    X = torch.rand(5, 28, 28) * (torch.rand(5, 28, 28) > 0.8)  # scaled images, background 0
    y = torch.arange(5)
    scaled_collate = AugmentingCollate(max_shift=3, max_degrees=15, elastic_alpha=6, seed=4)
    standardised_collate = AugmentingCollate(max_shift=3, max_degrees=15, elastic_alpha=6, fill=-mean / std, seed=4)
    scaled, _ = scaled_collate(list(zip(X, y)))
    standardised, _ = standardised_collate(list(zip((X - mean) / std, y)))
    # augmenting then standardising = standardising then augmenting with the background as fill
    torch.testing.assert_close(standardised, (scaled - mean) / std, rtol=0, atol=1e-5)
    zero_fill, _ = AugmentingCollate(max_shift=3, max_degrees=15, elastic_alpha=6, seed=4)(list(zip((X - mean) / std, y)))
    assert not torch.allclose(zero_fill, (scaled - mean) / std, atol=1e-3)  # fill=0 paints the border grey


def test_augmenting_collate_mixes_up_into_soft_targets_and_restores_its_generator_state():
    pairs = list(zip(torch.rand(8, 28, 28), torch.arange(8) % 3))
    collate = AugmentingCollate(mixup_alpha=0.4, num_classes=3, seed=0)
    state = collate.state_dict()
    inputs, soft_targets = collate(pairs)
    assert inputs.shape == (8, 28, 28) and soft_targets.shape == (8, 3)
    assert torch.allclose(soft_targets.sum(1), torch.ones(8))
    collate.load_state_dict(state)
    again, _ = collate(pairs)
    assert torch.equal(inputs, again)
    with pytest.raises(ValueError, match="num_classes"):
        AugmentingCollate(mixup_alpha=0.2)


def test_augmenting_collate_adds_noise_then_cuts_and_mixes_the_images_in_their_shape():
    X, y = torch.rand(6, 784), torch.arange(6)
    collate = AugmentingCollate(max_shift=1, noise_sigma=0.2, cutmix_alpha=1.0, num_classes=10, seed=3)
    inputs, soft_targets = collate(list(zip(X, y)))
    generator = torch.Generator().manual_seed(3)
    images = gaussian_noise(random_shift(X.reshape(-1, 28, 28), 1, generator=generator), 0.2, generator=generator)
    expected, expected_targets = cutmix(images, y, 1.0, generator=generator, num_classes=10)
    assert inputs.shape == X.shape and soft_targets.shape == (6, 10)
    assert torch.equal(inputs, expected.reshape(6, 784)) and torch.equal(soft_targets, expected_targets)
