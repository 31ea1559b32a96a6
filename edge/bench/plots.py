"""Optional PNG plots of the results (only where matplotlib is installed; the runtime does not need it)."""

from pathlib import Path

from edge.bench.report import scalar_metrics

ACCURACY_METRICS = {"speech": ("ravdess_5fold_si.ua_mean", "RAVDESS 5-fold speaker-independent UA (manifest)")}


def quality(results: dict, modality: str) -> tuple[list[float], str] | None:
    """Per model of ``modality``: its manifest accuracy if every model records it, else agreement with the
    float32 twin (1 for float32 itself); None when neither is available."""
    models = [m for m in results["models"] if m["modality"] == modality]
    key, label = ACCURACY_METRICS.get(modality, ("", ""))
    values = [scalar_metrics(m["metrics"]).get(key) for m in models]
    if key and all(isinstance(v, (int, float)) for v in values):
        return values, label
    agree = results.get("agreement", {}).get(modality, {})
    if "label_agreement" not in agree:
        return None
    return [1.0 if m["precision"] == "float32" else agree["label_agreement"] for m in models], \
        "label agreement with float32 (corpus clips)"


def _save(plt, fig, path: Path) -> Path:
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def latency_plot(plt, results: dict, out: Path) -> Path:
    """Median latency per invoke against interpreter threads, one line per model."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for m in results["models"]:
        ax.plot([lat["threads"] for lat in m["latency"]], [lat["median_ms"] for lat in m["latency"]], "o-",
                label=m["name"])
    ax.set(xlabel="interpreter threads", ylabel="median latency per invoke (ms)", title="Latency vs threads")
    ax.legend()
    return _save(plt, fig, out / "latency_threads.png")


def tradeoff_plot(plt, results: dict, modality: str, out: Path) -> Path | None:
    """Quality against latency on the first thread count, marker area = model size; None without a quality."""
    found = quality(results, modality)
    if found is None:
        return None
    values, label = found
    models = [m for m in results["models"] if m["modality"] == modality]
    x = [m["latency"][0]["median_ms"] for m in models]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(x, values, s=[m["size_kb"] for m in models], alpha=0.6)
    ax.margins(0.25)
    for m, xi, yi in zip(models, x, values):
        ax.annotate(f"{m['name']} ({m['size_kb']:.0f} KB)", (xi, yi), textcoords="offset points", xytext=(6, 6))
    ax.set(xlabel=f"median latency, {models[0]['latency'][0]['threads']} thread (ms)", ylabel=label,
           title=f"{modality}: quality vs latency (marker area = model size)")
    return _save(plt, fig, out / f"tradeoff_{modality}.png")


def draw_plots(results: dict, out: Path) -> tuple[list[Path], str | None]:
    """Latency vs threads, and per modality quality vs latency; returns (files, note for what was not drawn)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "matplotlib not installed: no plots"
    if not results["models"]:
        return [], "no models benchmarked: no plots"
    modalities = sorted({m["modality"] for m in results["models"]})
    tradeoffs = {modality: tradeoff_plot(plt, results, modality, out) for modality in modalities}
    missing = [modality for modality, path in tradeoffs.items() if path is None]
    note = f"no accuracy or agreement for {', '.join(missing)}: no trade-off plot" if missing else None
    return [latency_plot(plt, results, out), *(p for p in tradeoffs.values() if p)], note
