"""A linear calibration curve; a fitted instance is pickled to calibrator.pkl and served by method."""

from __future__ import annotations


class LinearCalibrator:
    """Maps raw instrument readings to calibrated values with y = slope * x + intercept."""

    def __init__(self, slope: float, intercept: float) -> None:
        self.slope = slope
        self.intercept = intercept

    @classmethod
    def fit(cls, x: list[float], y: list[float]) -> LinearCalibrator:
        """Least-squares line through the points (x, y)."""
        n = len(x)
        mx, my = sum(x) / n, sum(y) / n
        sxx = sum((a - mx) ** 2 for a in x)
        sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
        slope = sxy / sxx
        return cls(round(slope, 6), round(my - slope * mx, 6))

    def calibrate(self, readings: list[float], digits: int = 3) -> list[float]:
        """Calibrated values for raw readings, rounded to `digits`."""
        return [round(self.slope * r + self.intercept, digits) for r in readings]

    def invert(self, values: list[float]) -> list[float]:
        """Raw readings that would give these calibrated values."""
        return [(v - self.intercept) / self.slope for v in values]
