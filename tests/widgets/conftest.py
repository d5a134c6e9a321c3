"""The panels draw with matplotlib's object API; Agg keeps any stray pyplot call off screen."""
import matplotlib

matplotlib.use("Agg")
