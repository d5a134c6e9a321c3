import numpy as np
import pytest
import torch

from course_lib.data.augmentation import elastic_distortion, random_rotation, random_shift
from course_lib.widgets import augmentation as augmentation_panel
from course_lib.widgets._figure import render_png
from course_lib.widgets.augmentation import AugmentationExplorer, augmentation_explorer
from tests.calls import counted


def digits(count=8):
    """uint8 images as MNIST stores them: a bar of ink away from the border."""
    images = np.zeros((count, 28, 28), dtype=np.uint8)
    for index in range(count):
        images[index, 6:22, 10 + index % 5:14 + index % 5] = 255
    return images


@pytest.fixture
def panel():
    return augmentation_explorer(digits(), seed=3, elastic_alpha=20.0)


def expected_draw(images, seed, rows, shift, degrees, alpha, sigma):
    generator = torch.Generator().manual_seed(seed)
    batch = torch.as_tensor(images).float().div(255).repeat(rows, 1, 1)
    batch = random_shift(batch, shift, generator=generator)
    batch = random_rotation(batch, degrees, generator=generator)
    return elastic_distortion(batch, alpha, sigma, generator=generator).reshape(rows, *images.shape)


def test_the_first_view_augments_with_the_seeded_generator(panel):
    expected = expected_draw(digits(), 3, 3, 2, 10, 20.0, 4.0)

    torch.testing.assert_close(panel.augmented, expected, rtol=0, atol=0)
    assert bytes(panel.image.value).startswith(b"\x89PNG")
    assert [label.get_text() for label in panel.figure.axes[0].get_yticklabels()] == [
        "original", "augmented 1", "augmented 2", "augmented 3"]
    assert "draw 0 (generator seed 3)" in panel.summary.value


def test_the_mosaic_shows_the_originals_above_the_augmented_rows(panel):
    mosaic = panel.figure.axes[0].get_images()[0].get_array()

    assert mosaic.shape == (4 * 30, 8 * 30)
    np.testing.assert_allclose(mosaic[1:29, 1:29], digits()[0] / 255)
    np.testing.assert_allclose(mosaic[31:59, 31:59], panel.augmented[0, 1].numpy())


def test_every_control_changes_the_images(panel):
    for control, value in (("max_shift", 5), ("max_degrees", 40), ("elastic_alpha", 35.0),
                           ("elastic_sigma", 6.0), ("flip", True)):
        image, augmented = panel.image.value, panel.augmented

        getattr(panel, control).value = value

        assert panel.image.value != image, control
        assert not torch.equal(panel.augmented, augmented), control


def test_a_slider_keeps_the_draw_and_draw_again_changes_it(panel):
    panel.max_degrees.value = 0
    panel.elastic_alpha.value = 0.0
    shifted_only = panel.augmented

    panel.max_shift.value = 0

    torch.testing.assert_close(panel.augmented, torch.as_tensor(digits()).float().div(255).expand(3, -1, -1, -1))
    panel.max_shift.value = 2
    torch.testing.assert_close(panel.augmented, shifted_only, rtol=0, atol=0)
    panel.draw_again.click()
    assert panel.draw == 1 and "generator seed 4" in panel.summary.value
    assert not torch.equal(panel.augmented, shifted_only)
    torch.testing.assert_close(panel.augmented, expected_draw(digits(), 4, 3, 2, 0, 0.0, 4.0), rtol=0, atol=0)


def test_flipping_mirrors_the_same_draw_and_says_why_it_is_wrong(panel):
    unflipped = panel.augmented

    panel.flip.value = True

    torch.testing.assert_close(panel.augmented, torch.flip(unflipped, dims=[-1]), rtol=0, atol=0)
    assert "crimson" in panel.summary.value and "no digit" in panel.summary.value
    panel.flip.value = False
    assert "crimson" not in panel.summary.value


def test_the_same_seed_gives_the_same_images_whatever_the_input_type():
    as_floats = torch.as_tensor(digits()).float().div(255)[:, None]

    first = AugmentationExplorer(digits(), seed=7, rows=2)
    second = AugmentationExplorer(as_floats, seed=7, rows=2)

    assert first.augmented.shape == (2, 8, 28, 28)
    torch.testing.assert_close(first.augmented, second.augmented, rtol=0, atol=0)


def test_images_of_another_shape_are_refused():
    with pytest.raises(ValueError, match=r"\[N, H, W\]"):
        AugmentationExplorer(np.zeros((8, 784)))


def test_each_change_augments_once_and_draws_once(panel, monkeypatch):
    # how long an update takes is measured in benchmarks/widgets.py
    augmentations, pictures = counted(elastic_distortion), counted(render_png)
    monkeypatch.setattr(augmentation_panel, "elastic_distortion", augmentations)
    monkeypatch.setattr(augmentation_panel, "render_png", pictures)

    panel.elastic_alpha.value = 40.0
    panel.draw_again.click()

    assert (augmentations.calls, pictures.calls) == (2, 2)


def test_augmentation_explorer_displays_as_its_widget(panel):
    bundle = panel._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id
