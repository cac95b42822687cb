"""The ``saliency`` stage's work: one grey PNG per photo of an index (0 = background, 255 = salient),
in the sharded layout of label maps, from the model ``saliency.model`` names."""

from __future__ import annotations

import logging
from pathlib import Path

from wsss import io
from wsss.config import SaliencyParams
from wsss.data.dataset import Dataset
from wsss.data.saliency import geodesic_saliency
from wsss.errors import DataError
from wsss.progress import chunked, prefetched, progress

log = logging.getLogger(__name__)


def all_ids(dataset: Dataset) -> list[str]:
    return sorted(set().union(*(dataset.ids(split) for split in dataset.splits())))


def write_saliency_maps(index_dir: str | Path, params: SaliencyParams, out_dir: str | Path) -> int:
    """Saliency maps of every photo of the index into ``out_dir``; the number written."""
    dataset = Dataset(index_dir)
    ids = all_ids(dataset)
    out_dir = Path(out_dir)
    if params.model == "dataset":
        if dataset.spec.saliency_dir is None:
            raise DataError(f"{index_dir}: saliency.model is 'dataset' but the data came without saliency maps "
                            "(prepare.voc.saliency_dir / prepare.folder.saliency); use u2netp, u2net or geodesic")
        for image_id in progress(ids, len(ids), desc="saliency (dataset's maps)"):
            io.write_bytes(io.label_map_path(out_dir, image_id), dataset.saliency_path(image_id).read_bytes())
        return len(ids)
    if params.model == "geodesic":
        maps = prefetched(lambda i: geodesic_saliency(dataset.read_image(i)), ids)
        for image_id, map_ in progress(zip(ids, maps), len(ids), desc="saliency (geodesic)"):
            io.write_grey_png(io.label_map_path(out_dir, image_id), map_)
        return len(ids)
    from wsss.saliency.u2net import U2NetSaliency

    runner = U2NetSaliency(params.model, params.weights, params.size, params.device, params.precision)
    log.info("saliency: %s on %s, %d px inputs, batches of %d", params.model, runner.device, params.size,
             params.batch_size)
    batches = prefetched(lambda batch: (batch, [dataset.read_image(i) for i in batch]),
                         chunked(ids, params.batch_size), ahead=2)
    maps = ((image_id, map_) for batch, images in batches for image_id, map_ in zip(batch, runner(images)))
    for image_id, map_ in progress(maps, len(ids), desc=f"saliency ({params.model})"):
        io.write_grey_png(io.label_map_path(out_dir, image_id), map_)
    return len(ids)
