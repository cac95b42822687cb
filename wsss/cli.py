"""The ``wsss`` command line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional

import typer

from wsss.config import DemoConfig, InferSegParams, PrepareParams, VocSource
from wsss.errors import WsssError

app = typer.Typer(help="Weakly supervised semantic segmentation from image-level labels.", no_args_is_help=True)
data_app = typer.Typer(help="Build dataset indexes (demo, VOC 2012, custom folders).", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate label maps or localisation maps against ground truth.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(eval_app, name="eval")
interop_app = typer.Typer(help="Import and export the original SEAM/psa formats.", no_args_is_help=True)
app.add_typer(interop_app, name="interop")


def _fail(error: Exception) -> None:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.callback()
def _setup(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@data_app.command("demo")
def data_demo(
    out: Path = typer.Argument(..., help="Index folder to write (the demo images go in OUT/demo)."),
    seed: int = typer.Option(DemoConfig.seed, help="Random seed; the same seed gives byte-identical files."),
    num_train: int = typer.Option(DemoConfig.num_train, help="Training images."),
    num_val: int = typer.Option(DemoConfig.num_val, help="Validation images."),
) -> None:
    """Generate the embedded synthetic demo dataset in VOC layout and index it."""
    from wsss.data.prepare import prepare_dataset

    try:
        sizes = prepare_dataset(PrepareParams(demo=DemoConfig(seed=seed, num_train=num_train, num_val=num_val)), out)
    except WsssError as error:
        _fail(error)
    typer.echo(f"demo written to {out}: {sizes}")


@data_app.command("voc")
def data_voc(
    root: Path = typer.Argument(..., help="VOCdevkit/VOC2012 folder."),
    out: Path = typer.Argument(..., help="Index folder to write."),
    sbd_lists: Optional[Path] = typer.Option(None, help="Folder with SBD train.txt and val.txt."),
    labels_from: str = typer.Option(VocSource.labels_from, help="auto | xml | masks"),
    empty_labels: str = typer.Option(PrepareParams.empty_labels, help="drop | error | keep"),
    holdout: float = typer.Option(VocSource.holdout, help="Without val.txt: fraction of train held out as val (by id hash)."),
    bad_images: str = typer.Option(PrepareParams.bad_images, help="error | skip (drop unusable files and list them)."),
) -> None:
    """Index PASCAL VOC 2012 (+ SBD): train / val / train_aug lists and image-level labels; every image,
    mask and saliency map is decoded and checked first."""
    voc = VocSource(root=str(root), sbd_lists=str(sbd_lists or ""), labels_from=labels_from, holdout=holdout)
    sizes = _prepare(out, source="voc", voc=voc, empty_labels=empty_labels, bad_images=bad_images)
    typer.echo(f"VOC index written to {out}: {sizes}")


@data_app.command("folder")
def data_folder(
    images: Path = typer.Argument(..., help="Folder of images."),
    labels_csv: Path = typer.Argument(..., help="CSV with columns image,labels[,split]."),
    classes: Path = typer.Argument(..., help="Foreground class names, one per line."),
    out: Path = typer.Argument(..., help="Index folder to write."),
    masks: Optional[Path] = typer.Option(None, help="Ground-truth label PNGs (for evaluation)."),
    saliency: Optional[Path] = typer.Option(None, help="Saliency PNGs."),
    empty_labels: str = typer.Option(PrepareParams.empty_labels, help="drop | error | keep"),
    bad_images: str = typer.Option(PrepareParams.bad_images, help="error | skip (drop unusable files and list them)."),
) -> None:
    """Index a custom dataset: images + CSV of labels + class names; every image, mask and saliency map
    is decoded and checked first."""
    from wsss.config import FolderSource

    folder = FolderSource(images=str(images), labels_csv=str(labels_csv), classes=str(classes),
                          masks=str(masks or ""), saliency=str(saliency or ""))
    sizes = _prepare(out, source="folder", folder=folder, empty_labels=empty_labels, bad_images=bad_images)
    typer.echo(f"index written to {out}: {sizes}")


def _prepare(out: Path, **params) -> dict[str, int]:
    import dataclasses

    from wsss.config import from_dict
    from wsss.data.prepare import prepare_dataset

    try:
        # Through from_dict, so option strings are checked as params.yaml values are.
        plain = {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for k, v in params.items()}
        checked = from_dict(PrepareParams, plain, where="options")
        return prepare_dataset(checked, out)
    except WsssError as error:
        _fail(error)


@data_app.command("info")
def data_info(index: Path = typer.Argument(..., help="Dataset index folder.")) -> None:
    """Summarise a dataset index: classes, splits, label frequencies."""
    from wsss.data.dataset import Dataset

    try:
        dataset = Dataset(index)
    except WsssError as error:
        _fail(error)
    typer.echo(f"{dataset.spec.name}: {dataset.num_classes} classes ({', '.join(dataset.class_names)})")
    for split in dataset.splits():
        ids = dataset.ids(split)
        counts = sum(dataset.labels(i) for i in ids)
        freq = ", ".join(f"{n}={int(c)}" for n, c in zip(dataset.class_names[1:], counts))
        typer.echo(f"  {split}: {len(ids)} images; {freq}")


@eval_app.command("labels")
def eval_labels(
    index: Path = typer.Argument(..., help="Dataset index folder."),
    split: str = typer.Argument(..., help="Split to evaluate, e.g. train or val."),
    predictions: Path = typer.Argument(..., help="Folder of label PNGs (sharded or flat)."),
    out: Optional[Path] = typer.Option(None, help="Write the metrics JSON here."),
    workers: int = typer.Option(0, help="Processes (0 = all cores)."),
) -> None:
    """mIoU, pixel accuracy, mFP/mFN and per-class IoU of label PNGs."""
    from wsss import io, metrics
    from wsss.data.dataset import Dataset
    from wsss.evaluate import evaluate_label_maps

    try:
        names = Dataset(index).class_names
        result = metrics.scores(evaluate_label_maps(index, split, predictions, workers), names)
    except WsssError as error:
        _fail(error)
    _print_scores(result)
    if out:
        io.write_json(out, result)


@eval_app.command("cams")
def eval_cams(
    index: Path = typer.Argument(..., help="Dataset index folder."),
    split: str = typer.Argument(..., help="Split to evaluate."),
    cams: Path = typer.Argument(..., help="Localisation-map folder (wsss shard format)."),
    out: Optional[Path] = typer.Option(None, help="Write best-threshold metrics JSON here."),
    curve: Optional[Path] = typer.Option(None, help="Write the mIoU-vs-threshold CSV here."),
    workers: int = typer.Option(0, help="Processes (0 = all cores)."),
) -> None:
    """Sweep the background score 0.00–0.59 (SEAM's curve) and report the best threshold."""
    from wsss import io, metrics
    from wsss.data.dataset import Dataset
    from wsss.evaluate import evaluate_cams, threshold_curve

    try:
        names = Dataset(index).class_names
        confusions = evaluate_cams(index, split, cams, metrics.SEAM_THRESHOLDS, workers)
    except WsssError as error:
        _fail(error)
    rows, (best_t, best) = threshold_curve(confusions, metrics.SEAM_THRESHOLDS, names)
    typer.echo(f"best background threshold {best_t:.2f}")
    _print_scores(best)
    if out:
        io.write_json(out, {"best_threshold": best_t, **best})
    if curve:
        import pandas as pd

        io.write_csv(curve, pd.DataFrame(rows))


@app.command("predict")
def predict(
    model: Path = typer.Argument(..., help="Segmentation checkpoint: DeepLab (models/seg_<method>.pt) or GETAM (models/getam.pt)."),
    inputs: List[Path] = typer.Argument(..., help="Image files and/or folders (searched recursively)."),
    out: Path = typer.Option(Path("predictions"), "--out", "-o", help="Folder for <name>.png and <name>_overlay.jpg."),
    scales: str = typer.Option("auto", help="Comma-separated test scales; auto: SEAM's 0.5,0.75,1.0,1.25,1.5,1.75 "
                               "on a GPU, 1.0 on the CPU (6 scales + flip take ~11 s per photo there)."),
    sizes: str = typer.Option("", help="Comma-separated square test sizes instead of scales (GETAM: 256,320,480)."),
    average: str = typer.Option(InferSegParams.average, help="probs (softmax per view, then mean) | logits (GETAM)."),
    flip: bool = typer.Option(InferSegParams.flip, help="Average with the horizontally flipped view."),
    crf: str = typer.Option(InferSegParams.crf, help="Dense-CRF post-processing: none | seam | irn | getam | mcis."),
    crf_backend: str = typer.Option(InferSegParams.crf_backend, help="pydensecrf (C++, CPU) | torch (the same CRF; on the "
                                    "GPU when --device is one)."),
    device: str = typer.Option("auto", help="auto | cpu | cuda | cuda:N"),
    alpha: float = typer.Option(0.5, help="Overlay opacity of the class colours."),
    max_side: int = typer.Option(2048, help="Photos with a longer side are segmented shrunk to it and their labels "
                                 "upsampled: bounds memory (a 24-megapixel photo in under 4 GB on a CPU); 0 = full size."),
) -> None:
    """Segment images with a trained network: palette label PNGs plus colour overlays."""
    from wsss.config import RangeError
    from wsss.devices import resolve_device
    from wsss.models.deeplab import KIND as SEGMENTER
    from wsss.models.getam import KIND as GETAM
    from wsss.segment import predict as run_predict

    if scales == "auto":
        try:
            on_gpu = resolve_device(device).type == "cuda"
        except WsssError as error:
            _fail(error)
        scales = "0.5,0.75,1.0,1.25,1.5,1.75" if on_gpu else "1.0"
    try:
        scale_values = [float(v) for v in scales.split(",") if v.strip()]
        size_values = [int(v) for v in sizes.split(",") if v.strip()]
    except ValueError:
        _fail(WsssError(f"--scales {scales!r} / --sizes {sizes!r}: expected comma-separated numbers"))
    try:
        params = InferSegParams(split="", scales=scale_values, sizes=size_values, flip=flip, average=average, crf=crf,
                                crf_backend=crf_backend, device=device, max_side=max_side)
    except RangeError as error:
        _fail(WsssError(f"--{error}"))
    try:
        written, errors = run_predict(model, inputs, out, params, alpha, kinds=(SEGMENTER, GETAM))
    except WsssError as error:
        _fail(error)
    typer.echo(f"wrote {written} label maps and overlays to {out}")
    if errors:
        for message in errors:
            typer.secho(f"skipped: {message}", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(1)


@app.command("cam")
def cam(
    model: Path = typer.Argument(..., help="A classifier model file: CAM or SEAM (models/cls_<method>.pt), MCIS "
                                 "(models/mcis.pt) or GETAM (models/getam.pt)."),
    inputs: List[Path] = typer.Argument(..., help="Image files and/or folders (searched recursively)."),
    classes: str = typer.Option("auto", help="Comma-separated class names, or auto: the classes the model scores "
                                "at least --threshold on each photo (at least its best one)."),
    out: Path = typer.Option(Path("cams_out"), "--out", "-o", help="Folder for <name>_<class>.jpg overlays and <name>.npz."),
    maps: str = typer.Option("native", help="native (CAM, SEAM's PCM, MCIS co-attention, GETAM) | gradcam | "
                             "gradcampp (CAM and SEAM classifiers)."),
    scales: str = typer.Option("1.0", help="Comma-separated test scales (CAM/SEAM; the stages use 0.5,1.0,1.5,2.0)."),
    flip: bool = typer.Option(True, help="Average with the horizontally flipped view (CAM/SEAM)."),
    threshold: float = typer.Option(0.5, help="Score a class needs for --classes auto."),
    size: int = typer.Option(256, help="MCIS input side: the size it was trained at (train_mcis.size)."),
    max_side: int = typer.Option(1024, help="Photos with a longer side are shrunk to it first (0 = full size)."),
    device: str = typer.Option("auto", help="auto | cpu | cuda | cuda:N"),
    alpha: float = typer.Option(0.5, help="Overlay opacity of the heat map."),
) -> None:
    """Localisation maps of a trained classifier on your photos: heat-map overlays and arrays."""
    from io import BytesIO

    import numpy as np

    from wsss import io
    from wsss.cams.photos import PhotoLocaliser, heat_overlay
    from wsss.progress import progress
    from wsss.segment import image_files, prediction_stems, reduced

    try:
        scale_values = [float(v) for v in scales.split(",") if v.strip()]
    except ValueError:
        _fail(WsssError(f"--scales {scales!r}: expected comma-separated numbers"))
    if not scale_values or min(scale_values) <= 0 or not 0 <= threshold <= 1 or size < 16 or max_side < 0:
        _fail(WsssError("--scales must be > 0, --threshold in [0, 1], --size >= 16, --max-side >= 0"))
    try:
        localiser = PhotoLocaliser(model, maps, scale_values, flip, device, threshold, size)
        requested = None if classes == "auto" else localiser.class_indices([c.strip() for c in classes.split(",") if c.strip()])
        files = image_files(inputs)
        if not files:
            raise WsssError(f"no image files in {', '.join(map(str, inputs))}")
        stems = prediction_stems(files, out)
        photos, chosen = [], []
        for path, _ in files:
            image = reduced(io.read_image(path), max_side)
            photos.append(image)
            chosen.append(requested if requested is not None else localiser.auto_classes(image))
        for k, (image, stem) in enumerate(progress(list(zip(photos, stems)), len(photos), desc="cam")):
            partners = {c: [p for j, p in enumerate(photos) if j != k and c in chosen[j]] for c in chosen[k]}
            result = localiser.maps(image, chosen[k], partners)
            buffer = BytesIO()
            np.savez(buffer, classes=np.array(result.classes), maps=result.maps.astype(np.float16))
            io.write_bytes(stem.parent / f"{stem.name}.npz", buffer.getvalue())
            for name, heat in zip(result.classes, result.maps):
                io.write_jpeg(stem.parent / f"{stem.name}_{name}.jpg", heat_overlay(image, heat, alpha), quality=90)
            typer.echo(f"{stem.name}: {', '.join(result.classes)}")
    except WsssError as error:
        _fail(error)
    typer.echo(f"wrote maps of {len(photos)} photos to {out}")


@app.command("recipe")
def recipe(
    recipe_file: Optional[Path] = typer.Argument(None, help="A recipe, e.g. recipes/real-photo.yaml (omit to only --set)."),
    sets: Optional[List[str]] = typer.Option(None, "--set", "-S", help="section.key=value on top of the recipe."),
    params_file: Path = typer.Option(Path("params.yaml"), "--params", help="The params file to update."),
) -> None:
    """Merge a named parameter set into params.yaml (comments kept; every value checked first). Run `dvc repro` after."""
    from wsss.recipe import apply_recipe

    try:
        changed = apply_recipe(params_file, recipe_file, list(sets or []))
    except WsssError as error:
        _fail(error)
    typer.echo(f"{params_file}: {len(changed)} values changed" + (f" ({', '.join(changed)})" if changed else ""))


@app.command("report")
def report(
    pipeline: str = typer.Option("seam", help="seam | mcis | getam"),
    out: Optional[Path] = typer.Option(None, help="Report folder (default: report/<pipeline>)."),
    rev: Optional[str] = typer.Option(None, "--rev", help="Also show each stage's mIoU at this git revision."),
    sample: int = typer.Option(6, help="Images in the seeded gallery sample per split."),
    worst: int = typer.Option(6, help="Worst images by IoU per split."),
    seed: int = typer.Option(0, help="Seed of the gallery sample."),
) -> None:
    """Write a self-contained HTML report of a pipeline run (metrics, curves, per-class scores,
    confusion matrix, galleries) from its artifacts; open <out>/index.html in any browser, offline."""
    from wsss.report.build import PIPELINES
    from wsss.report.page import build_report

    if pipeline not in PIPELINES:
        _fail(WsssError(f"--pipeline {pipeline!r} is not one of {', '.join(PIPELINES)}"))
    try:
        path = build_report(Path("."), out or Path("report") / pipeline, pipeline, rev, sample, worst, seed)
    except WsssError as error:
        _fail(error)
    typer.echo(f"report written to {path}")


@app.command("plots")
def plots(
    out: Path = typer.Option(Path("dvc_plots/offline"), help="Folder for the rendered plots."),
    fmt: str = typer.Option("png", "--format", help="png | svg | html (self-contained)"),
    revisions: Optional[List[str]] = typer.Option(None, "--rev", help="Compare revisions (dvc plots diff)."),
) -> None:
    """Render `dvc plots` offline (no CDN): PNG, SVG or a self-contained HTML per plot."""
    from wsss.plots import dvc_plot_specs, render

    try:
        written = render(dvc_plot_specs(revisions), out, fmt)
    except WsssError as error:
        _fail(error)
    for path in written:
        typer.echo(str(path))


@interop_app.command("seam-checkpoint")
def interop_seam_checkpoint(
    source: Path = typer.Argument(..., help="State dict saved by the original SEAM code (resnet38_SEAM.pth)."),
    out: Path = typer.Argument(..., help="wsss classifier checkpoint to write."),
    index: Path = typer.Option(Path("data/prepared"), help="Dataset index giving the class names."),
) -> None:
    """Convert an original SEAM checkpoint into a wsss classifier (usable by infer_cam)."""
    from wsss.data.dataset import Dataset
    from wsss.models.classifier import import_original_seam_checkpoint

    try:
        spec = import_original_seam_checkpoint(source, out, Dataset(index).class_names)
    except WsssError as error:
        _fail(error)
    typer.echo(f"wrote {out} ({spec.method}/{spec.backbone}, {spec.num_foreground} classes)")


@interop_app.command("mxnet-resnet38")
def interop_mxnet_resnet38(
    source: Path = typer.Argument(..., help="ilsvrc-cls_rna-a1_cls1000_ep-0001.params (read without MXNet)."),
    out: Path = typer.Argument(..., help=".pth in the original ResNet-38 key layout."),
) -> None:
    """Convert the ImageNet ResNet-38 MXNet weights once into a .pth."""
    from wsss import io
    from wsss.models.weights import resnet38_state_from_mxnet

    try:
        state = resnet38_state_from_mxnet(source)
    except WsssError as error:
        _fail(error)
    io.save_torch(out, state)
    typer.echo(f"wrote {out} ({len(state)} tensors)")


@interop_app.command("export-cams")
def interop_export_cams(
    cams: Path = typer.Argument(..., help="wsss localisation-map folder."),
    out: Path = typer.Argument(..., help="Folder for one original-format .npy dict per image."),
    index: Path = typer.Option(Path("data/prepared"), help="Dataset index."),
    split: str = typer.Option("train", help="Split whose images to export."),
) -> None:
    """Write SEAM/psa-style {class: map} .npy files (for tools built on the original code)."""
    from wsss import io
    from wsss.data.dataset import Dataset

    try:
        reader = io.CamShardReader(cams)
        for image_id in Dataset(index).ids(split):
            io.export_cam_npy(out / f"{image_id}.npy", *reader.read(image_id))
    except WsssError as error:
        _fail(error)


@interop_app.command("import-cams")
def interop_import_cams(
    source: Path = typer.Argument(..., help="Folder of original-format .npy CAM dicts."),
    out: Path = typer.Argument(..., help="wsss localisation-map folder to write."),
) -> None:
    """Read SEAM/psa .npy CAM dicts into the sharded wsss format (evaluate them with eval cams)."""
    from wsss import io
    from wsss.devices import shard_count

    files = sorted(source.glob("*.npy"))
    if not files:
        _fail(WsssError(f"{source}: no .npy files"))
    try:
        with io.CamShardWriter(out, shard_count(len(files))) as writer:
            for path in files:
                writer.write(path.stem, *io.import_cam_npy(path))
    except WsssError as error:
        _fail(error)
    typer.echo(f"imported {len(files)} images into {out}")


def _print_scores(result: dict) -> None:
    def fmt(value):
        return "  n/a" if value is None else f"{100 * value:5.2f}"

    typer.echo(f"mIoU {fmt(result['miou'])}  pixel acc {fmt(result['pixel_acc'])}  "
               f"mFP {fmt(result['mfp'])}  mFN {fmt(result['mfn'])}")
    for key, value in result.items():
        if key.startswith("iou_"):
            typer.echo(f"  {key[4:]:>14s} {fmt(value)}")


if __name__ == "__main__":
    app()
