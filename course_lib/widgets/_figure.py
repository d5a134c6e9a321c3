"""What the panels share: their figures reach the notebook as PNG bytes for an `Image` widget."""
import io

PNG_DPI = 80


def render_png(figure, dpi=PNG_DPI):
    """`figure` (a matplotlib `Figure`, drawn with the object API) as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
