"""Assignment 05: the strengths of shifts, rotations and elastic distortion as controls,
digits before and after augmentation (`course_lib.data.augmentation`) as the result."""
import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..data.augmentation import elastic_distortion, random_rotation, random_shift
from ._figure import PNG_DPI, render_png

GAP = 2  # blank pixels between the digits of the mosaic
FLIP_WARNING = ("a horizontal flip is no augmentation for digits: a flipped 2, 3, 4, 5, 7 or 9 "
                "is no digit at all, and the network would learn these shapes under their old labels")


def _as_images(images):
    """images [N, 28, 28] (array or tensor, 0–255 integers or floats) as float32 in [0, 1]."""
    images = torch.as_tensor(np.asarray(images)) if not isinstance(images, torch.Tensor) else images.detach().cpu()
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(f"images must be [N, H, W] (or [N, 1, H, W]), got shape {list(images.shape)}")
    return images.float() / 255 if not images.is_floating_point() else images.float()


def _mosaic(rows):
    """[R, N, H, W] images as one [R*(H+GAP), N*(W+GAP)] picture, one row of digits per row."""
    count_rows, count, height, width = rows.shape
    padded = np.zeros((count_rows, count, height + GAP, width + GAP), dtype=np.float32)
    padded[:, :, GAP // 2:GAP // 2 + height, GAP // 2:GAP // 2 + width] = rows
    return padded.transpose(0, 2, 1, 3).reshape(count_rows * (height + GAP), count * (width + GAP))


class AugmentationExplorer:
    """The strength of each augmentation as a control — the largest shift in pixels, the
    largest rotation in degrees, the elastic distortion's alpha (how far pixels move) and
    sigma (how smooth the displacement is) — and a "horizontal flip" box that shows why
    flipping is wrong for digits. The originals are drawn on top and `rows` augmented
    versions of them below, each row its own random draw.

    The augmentations run in that order (shift, rotation, elastic distortion, flip) with a
    `torch.Generator` seeded with `seed + draw`: moving a slider shows the same random draw
    at another strength, "draw again" adds 1 to `draw` for new random transformations.
    """

    def __init__(self, images, *, seed=0, rows=3, max_shift=2, max_degrees=10, elastic_alpha=0.0,
                 elastic_sigma=4.0, flip=False):
        self.images = _as_images(images)
        self.seed, self.rows, self.draw = seed, rows, 0
        self.max_shift = widgets.IntSlider(value=max_shift, min=0, max=6, description="max shift (px)",
                                           continuous_update=False)
        self.max_degrees = widgets.IntSlider(value=max_degrees, min=0, max=45, description="max rotation (°)",
                                             continuous_update=False)
        self.elastic_alpha = widgets.FloatSlider(value=elastic_alpha, min=0, max=40, step=1,
                                                 description="elastic α (px)", continuous_update=False)
        self.elastic_sigma = widgets.FloatSlider(value=elastic_sigma, min=2, max=8, step=0.5,
                                                 description="elastic σ (px)", continuous_update=False)
        self.flip = widgets.Checkbox(value=flip, description="horizontal flip")
        self.draw_again = widgets.Button(description="draw again", icon="refresh")
        controls = (self.max_shift, self.max_degrees, self.elastic_alpha, self.elastic_sigma, self.flip)
        for control in controls:
            control.style.description_width = "110px"
        self.image = widgets.Image(format="png")
        self.summary = widgets.HTML()
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.max_shift, self.max_degrees]),
                          widgets.VBox([self.elastic_alpha, self.elastic_sigma]),
                          widgets.VBox([self.flip, self.draw_again])]),
            self.image,
            self.summary,
        ])
        count = len(self.images)
        self.figure = Figure(figsize=(max(4.0, 0.75 * count + 1.2), 0.75 * (rows + 1) + 0.2), dpi=PNG_DPI)
        FigureCanvasAgg(self.figure)  # one canvas for all redraws, as the other panels
        self.augmented = None  # the latest augmented images, [rows, N, H, W]
        for control in controls:
            control.observe(self._on_change, names="value")
        self.draw_again.on_click(self._on_draw_again)
        self.update()

    def augment(self):
        """`rows` augmented copies of the images with the controls' settings, [rows, N, H, W]."""
        generator = torch.Generator().manual_seed(self.seed + self.draw)
        batch = self.images.repeat(self.rows, 1, 1)
        batch = random_shift(batch, self.max_shift.value, generator=generator)
        batch = random_rotation(batch, self.max_degrees.value, generator=generator)
        batch = elastic_distortion(batch, self.elastic_alpha.value, self.elastic_sigma.value, generator=generator)
        if self.flip.value:
            batch = torch.flip(batch, dims=[-1])
        return batch.reshape(self.rows, *self.images.shape)

    def _on_change(self, change):
        self.update()

    def _on_draw_again(self, button):
        self.draw += 1
        self.update()

    def update(self):
        """Augment the images again and redraw."""
        self.augmented = self.augment()
        lines = [f"shifts up to ±{self.max_shift.value} px, rotations up to ±{self.max_degrees.value}°, "
                 f"elastic distortion α = {self.elastic_alpha.value:g} px, σ = {self.elastic_sigma.value:g} px; "
                 f"draw {self.draw} (generator seed {self.seed + self.draw})"]
        if self.flip.value:
            lines.append(f"<b style='color:crimson'>{FLIP_WARNING}</b>")
        self.summary.value = f"<div style='font-family:sans-serif;line-height:1.5'>{'<br>'.join(lines)}</div>"
        self._draw()

    def _draw(self):
        fig = self.figure
        fig.clear()
        # one picture instead of an axes per digit: a redraw costs one image, not dozens
        left = 1.25 / fig.get_figwidth()  # inches for the row labels, whatever the width
        ax = fig.add_axes((left, 0.02, 0.99 - left, 0.96))
        rows = torch.cat([self.images[None], self.augmented]).numpy()
        ax.imshow(_mosaic(rows), cmap="gray_r", vmin=0, vmax=float(rows.max()) or 1.0, interpolation="nearest")
        row_height = self.images.shape[-2] + GAP
        ax.set_yticks(row_height * (np.arange(self.rows + 1) + 0.5),
                      ["original"] + [f"augmented {row}" for row in range(1, self.rows + 1)])
        ax.set_xticks([])
        ax.tick_params(length=0)
        ax.axhline(row_height - 0.5, color="crimson", lw=1)
        for spine in ax.spines.values():
            spine.set_visible(False)
        self.image.value = render_png(fig)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def augmentation_explorer(images, **options):
    """An `AugmentationExplorer` on `images` (see there for `options`); display it as a cell's value."""
    return AugmentationExplorer(images, **options)
