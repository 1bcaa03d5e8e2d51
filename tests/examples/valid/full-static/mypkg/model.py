def run(x: list[float], scale: float = 1.0) -> list[float]:
    return [v * scale for v in x]
