"""The documented figures rendered from the committed result files, so that a number in those blocks cannot go stale.

    python -m benchmarks.readme_figures [--check]

Each block sits between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->` in the file DOCUMENTS assigns it:
the README's on-device headline, and docs/results.md's full keyword, transcription, runtime and memory tables.
This rewrites every block from benchmarks/results/, or with --check exits 1 naming the blocks that differ
(tests/test_readme_figures.py runs the check).
"""

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable, Iterable

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RESULTS_DOC = REPO / "docs" / "results.md"
KEYWORD_TARGETS = (0.90, 0.05)  # top-1 on keyword clips at least, false accepts on other words at most
RESULTS = REPO / "benchmarks" / "results"


def _load(relative: str) -> dict:
    """One committed result file under benchmarks/results."""
    return json.loads((RESULTS / relative).read_text(encoding="utf-8"))


def _pct(x: float) -> str:
    """A rate as the documents print it: one decimal percent."""
    return f"{x:.1%}"


def _when(env: dict) -> str:
    """Date, load and cores of a run: speed figures mean little without them."""
    return (f"{env['timestamp'][:10]}, 1-minute load average {env['load_average_1min']:.1f} on {env['cpu_count']} "
            f"cores, OPENBLAS_NUM_THREADS {env['openblas_num_threads']}")


def keywords_block() -> list[str]:
    """The keyword engines on the 960 test clips: network rows, the CLI default list, pocketsphinx."""
    net, kw = _load("keyword_network.json"), _load("keywords.json")["keywords"]
    int8, float32 = net["networks"]
    curve = {c["threshold"]: c for c in int8["operating_curve"]}
    low = [curve[t] for t in (0.5, 0.3)]
    test, d = kw["test"], net["default_list"]
    recall = ", ".join(f"{k['keyword']} {k['recall']:.0%}" for k in int8["per_keyword"])
    run = net["running_speech"]
    return [
        "| engine (ten words) | top-1 on keyword clips (target >= 90%) | false accepts on other words "
        "(target <= 5%) | size | RTF (1 core) | peak RSS |", "|---|---|---|---|---|---|",
        f"| **DS-CNN int8 (shipped), threshold {int8['threshold'][0]:.2f}** | **{_pct(int8['top1'])}** | "
        f"**{_pct(int8['false_accept'])}** | {int8['size_kb']:.0f} KB | {int8['rtf_cpu']:.4f} | "
        f"{net['rss_mb']:.0f} MB |",
        f"| DS-CNN float32, threshold {float32['threshold'][0]:.2f} | {_pct(float32['top1'])} | "
        f"{_pct(float32['false_accept'])} | {float32['size_kb']:.0f} KB | {float32['rtf_cpu']:.4f} | |",
        f"| the same int8 network at threshold 0.5 / 0.3 | {_pct(low[0]['top1'])} / {_pct(low[1]['top1'])} | "
        f"{_pct(low[0]['false_accept'])} / {_pct(low[1]['false_accept'])} | | | |",
        f"| CLI default list (network + pocketsphinx phrases, phrase caps fitted on validation) | {_pct(d['top1'])} | "
        f"{_pct(d['false_accept'])} | | | |",
        f"| pocketsphinx kws, thresholds fitted on validation | {_pct(kw['shipped']['top1'])} | "
        f"{_pct(kw['shipped']['false_accept'])} | - | {kw['rtf_cpu']:.3f} | {kw['rss_mb']:.0f} MB |",
        "",
        f"Per keyword (int8 recall): {recall}. In running speech (espeak-ng sentences, 3 voices, a keyword inside "
        f"a sentence): network recall {run['network']['recall']:.0%} with {run['network']['false_accept']:.0%} false "
        f"accepts on keyword-free sentences, pocketsphinx {run['pocketsphinx']['recall']:.0%} / "
        f"{run['pocketsphinx']['false_accept']:.0%}. Clips: test {test['keyword_clips']} keyword + "
        f"{test['other_clips']} other-word clips ({test['speakers']} speakers); validation "
        f"{kw['validation']['keyword_clips']} + {kw['validation']['other_clips']} ({kw['validation']['speakers']} "
        f"speakers). Runs: network {_when(net['environment'])}; pocketsphinx "
        f"{_when(_load('keywords.json')['environment'])}.",
    ]


def transcription_block() -> list[str]:
    """Full decoding of the espeak-ng sentences with each language model."""
    results = _load("keywords.json")
    general, shipped = results["transcription"]
    return ["| language model | WER, 30 espeak-ng driver/robot sentences | RTF (1 core, target <= 0.3) "
            "| peak RSS (target <= 60 MB) |", "|---|---|---|---|",
            f"| **shipped conversational 3-gram, 6k words** | {_pct(shipped['wer'])} | **{shipped['rtf_cpu']:.3f}** | "
            f"**{shipped['rss_mb']:.0f} MB** |",
            f"| pocketsphinx wheel, general en-us 3-gram | {_pct(general['wer'])} | {general['rtf_cpu']:.3f} | "
            f"{general['rss_mb']:.0f} MB |", "", f"Run: {_when(results['environment'])}."]


def _amount(value: float, unit: str) -> str:
    """A runtime figure with its unit, four significant digits."""
    return f"{value:.4g}{'' if unit in ('', 'x') else ' '}{unit}"


def _latency(models: dict, name: str, threads: int) -> float:
    """Median ms per invoke of one model at one thread count in the runtime results."""
    return next(lat["median_ms"] for lat in models[name]["latency"] if lat["threads"] == threads)


def runtime_block() -> list[str]:
    """The full runtime benchmark's targets, thread scaling and the face baseline (runtime/results.json)."""
    results = _load("runtime/results.json")
    models = {m["name"]: m for m in results["models"]}
    rows = ["| target | measured | |", "|---|---|---|"]
    for t in results["targets"]:
        value = _amount(t["value"], t["unit"])
        pair = re.match(r"(\w+) int8/float32 latency \((\d+) thread", t["name"])
        if pair:
            modality, threads = pair[1], int(pair[2])
            int8, float32 = (m for m in results["models"] if m["modality"] == modality)
            value += (f" ({_latency(models, int8['name'], threads):.3f} ms vs "
                      f"{_latency(models, float32['name'], threads):.3f} ms)")
        rows.append(f"| {t['name']} <= {_amount(t['limit'], t['unit'])} | {value} | {'PASS' if t['passed'] else 'MISS'} |")
    face = results["face_path"]
    one, two = ({n: _latency(models, n, t) for n in ("speech_emotion_int8", "text_emotion_int8", "face_emotion_int8")}
                for t in (1, 2))
    return rows + [
        "", f"Full run of {results['environment']['timestamp'][:10]} ({results['environment']['cpu_count']} cores, "
        f"{results['environment']['interpreter']} {results['environment']['interpreter_version']}). Threads (median "
        f"ms per invoke, 1 -> 2 threads): speech int8 {one['speech_emotion_int8']:.3f} -> "
        f"{two['speech_emotion_int8']:.3f}, text {one['text_emotion_int8']:.3f} -> {two['text_emotion_int8']:.3f}, "
        f"face int8 {one['face_emotion_int8']:.3f} -> {two['face_emotion_int8']:.3f}. In the face-path run the "
        f"`fer` baseline classifier takes {face['fer_baseline']['classify_median_ms']:.3f} ms per face against "
        f"{face['classify_median_ms']:.3f} ms for ours (1 thread).",
    ]


def memory_block() -> list[str]:
    """Peak RSS of fresh processes holding sets of the deployed models (runtime/memory.json)."""
    memory, full = _load("runtime/memory.json"), _load("runtime/results.json")
    rss = {r["set"]: r["peak_rss_mb"] for r in memory["sets"]}
    bare, opencv, everything = (rss[name] for name in ("runtime only (numpy + TFLite interpreter, no model)",
                                                        "runtime + OpenCV import, no model", "every deployed model"))
    rows = ["| process | models loaded | peak RSS |", "|---|---|---|"]
    rows += [f"| {r['set']} | {', '.join(r['models']) or '-'} | {r['peak_rss_mb']:.0f} MB |" for r in memory["sets"]]
    return rows + ["", f"Measured {memory['environment']['timestamp'][:10]} (`benchmarks/results/runtime/memory.md`). "
                       f"Importing OpenCV adds {opencv - bare:.0f} MB to the bare runtime. Every deployed model "
                       f"together: {everything:.0f} MB here, {full['peak_rss_all_int8_mb']:.0f} MB in the full run "
                       "above (separate runs on different days; the gap is not explained)."]


def headline_block() -> list[str]:
    """The README's on-device headline: keyword accuracy and the runtime targets a newcomer asks about first."""
    int8 = _load("keyword_network.json")["networks"][0]
    top1, false_accept = KEYWORD_TARGETS
    targets = _load("runtime/results.json")["targets"]
    rows = ["| on the device | result (target) | command |", "|---|---|---|",
            f"| keywords, ten words, DS-CNN int8 | {_pct(int8['top1'])} top-1 (>= {top1:.0%}: "
            f"{'PASS' if int8['top1'] >= top1 else '**missed**'}), {_pct(int8['false_accept'])} false accepts "
            f"(<= {false_accept:.0%}: {'PASS' if int8['false_accept'] <= false_accept else '**missed**'}) | "
            "`python -m benchmarks.keyword_network` |"]
    for prefix in ("cold start", "audio path real-time factor", "face path ms per frame", "peak RSS"):
        t = next(t for t in targets if t["name"].startswith(prefix))
        rows.append(f"| {t['name']} | {_amount(t['value'], t['unit'])} (<= {_amount(t['limit'], t['unit'])}: "
                    f"{'PASS' if t['passed'] else '**missed**'}) | `edge-emotion benchmark` |")
    return rows


BLOCKS: dict[str, Callable[[], list[str]]] = {"keywords": keywords_block, "transcription": transcription_block,
                                              "runtime": runtime_block, "memory": memory_block,
                                              "headline": headline_block}
DOCUMENTS: dict[Path, tuple[str, ...]] = {README: ("headline",),
                                          RESULTS_DOC: ("keywords", "transcription", "runtime", "memory")}


def _pattern(name: str) -> re.Pattern:
    """The figures block NAME: (opening marker, body, closing marker)."""
    return re.compile(rf"(<!-- figures:{name} -->\n)(.*?)(<!-- /figures:{name} -->)", re.S)


def render(document: str, names: Iterable[str] = tuple(BLOCKS)) -> str:
    """``document`` with its figures blocks ``names`` rewritten from the result files; KeyError for one it lacks."""
    for name in names:
        if not _pattern(name).search(document):
            raise KeyError(f"no figures:{name} block")
        document = _pattern(name).sub(lambda m: m[1] + "\n".join(BLOCKS[name]()) + "\n" + m[3], document)
    return document


def stale(document: str, names: Iterable[str] = tuple(BLOCKS)) -> list[str]:
    """Names of the blocks (of ``names``) whose text differs from what the result files give."""
    fresh = render(document, names)
    return [name for name in names if _pattern(name).search(document)[2] != _pattern(name).search(fresh)[2]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a block is stale instead of rewriting")
    args = parser.parse_args()
    for path, names in DOCUMENTS.items():
        text = path.read_text(encoding="utf-8")
        if args.check:
            if stale(text, names):
                sys.exit(f"{path.relative_to(REPO)} figures out of date: {', '.join(stale(text, names))} "
                         "(python -m benchmarks.readme_figures)")
        else:
            path.write_text(render(text, names), encoding="utf-8")


if __name__ == "__main__":
    main()
