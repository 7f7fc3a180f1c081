"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch09_object_detection.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others are programs of their own. The detector's mAP target (build_detector) is scored on a scale:
see SCORED.
"""

from tests.mutants import change, solution_source

CHAPTER = "ch09_object_detection"

# ----------------------------------------------------------------------------- dense_to_conv

_DENSE_TO_CONV = solution_source(CHAPTER, "dense_to_conv")
_KERNEL = "weights[0].reshape(h, w, c, units)"

WRONG_DENSE_TO_CONV = {
    "kernel reshaped channels first (c, h, w) then moved": change(_DENSE_TO_CONV, (
        _KERNEL, "np.transpose(weights[0].reshape(c, h, w, units), (1, 2, 0, 3))")),
    "kernel reshaped with rows and columns swapped": change(_DENSE_TO_CONV, (
        _KERNEL, "np.transpose(weights[0].reshape(w, h, c, units), (1, 0, 2, 3))")),
    "bias dropped": change(_DENSE_TO_CONV, (
        "use_bias=dense_layer.use_bias)", "use_bias=False)"), ("+ weights[1:]", "")),
    "activation dropped": change(_DENSE_TO_CONV, ("activation=dense_layer.activation,", "")),
    "padding same": change(_DENSE_TO_CONV, ('padding="valid"', 'padding="same"')),
    "stride equal to the kernel (no sliding on larger inputs)": change(_DENSE_TO_CONV, (
        'padding="valid",', 'padding="valid", strides=(h, w),')),
    "Fortran-order reshape": change(_DENSE_TO_CONV, (
        _KERNEL, "weights[0].reshape(h, w, c, units, order='F')")),
}
RIGHT_DENSE_TO_CONV = {
    "kernel and bias assigned to the variables after calling on zeros": '''
def dense_to_conv(dense_layer, input_shape):
    h, w, c = input_shape
    units = dense_layer.units
    conv = keras.layers.Conv2D(units, kernel_size=(h, w), activation=dense_layer.activation,
                               use_bias=dense_layer.use_bias)
    conv(np.zeros((1, h, w, c), np.float32))
    conv.kernel.assign(keras.ops.reshape(dense_layer.kernel, (h, w, c, units)))
    if dense_layer.use_bias:
        conv.bias.assign(dense_layer.bias)
    return conv
''',
    "kernel built from per-unit filters": '''
def dense_to_conv(dense_layer, input_shape):
    h, w, c = input_shape
    kernel = keras.ops.convert_to_numpy(dense_layer.kernel)
    filters = np.stack([kernel[:, j].reshape(h, w, c) for j in range(kernel.shape[1])], axis=-1)
    conv = keras.layers.Conv2D(kernel.shape[1], (h, w), strides=1,
                               activation=dense_layer.get_config()["activation"],
                               use_bias=dense_layer.use_bias)
    conv.build((None, h, w, c))
    conv.set_weights([filters]
                     + ([keras.ops.convert_to_numpy(dense_layer.bias)] if dense_layer.use_bias else []))
    return conv
''',
}

# ----------------------------------------------------------------------------- non_max_suppression

_NMS = solution_source(CHAPTER, "non_max_suppression")
_ORDER = 'np.argsort(-scores, kind="stable")'
_AREAS = (
    "areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)"
)

WRONG_NMS = {
    ">= at the threshold": change(_NMS, ("np.any(ious > iou_threshold)", "np.any(ious >= iou_threshold)")),
    "not sorted by score (input order)": change(_NMS, (_ORDER, "range(len(boxes))")),
    "sorted ascending": change(_NMS, (_ORDER, 'np.argsort(scores, kind="stable")')),
    "ties reversed (argsort(scores)[::-1])": change(
        _NMS, (_ORDER, 'np.argsort(scores, kind="stable")[::-1]')),
    "suppressed against every higher-scored box, kept or not": '''
def non_max_suppression(boxes, scores, iou_threshold, max_outputs=None):
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    for rank, i in enumerate(order):
        before = order[:rank]
        w = np.clip(np.minimum(boxes[i, 2], boxes[before, 2]) - np.maximum(boxes[i, 0], boxes[before, 0]),
                    0, None)
        h = np.clip(np.minimum(boxes[i, 3], boxes[before, 3]) - np.maximum(boxes[i, 1], boxes[before, 1]),
                    0, None)
        ious = w * h / (areas[i] + areas[before] - w * h)
        if not np.any(ious > iou_threshold):
            keep.append(int(i))
    if max_outputs is not None:
        keep = keep[:max_outputs]
    return np.array(keep, dtype=np.int64)
''',
    "IoU with +1 pixels (inclusive max edges)": change(_NMS, (
        _AREAS,
        _AREAS.replace("boxes[:, 0], 0", "boxes[:, 0] + 1, 0")
        .replace("boxes[:, 1], 0", "boxes[:, 1] + 1, 0")), (
        "boxes[kept, 2]) - np.maximum(boxes[i, 0], boxes[kept, 0]), 0, None)",
        "boxes[kept, 2]) - np.maximum(boxes[i, 0], boxes[kept, 0]) + 1, 0, None)"), (
        "boxes[kept, 3]) - np.maximum(boxes[i, 1], boxes[kept, 1]), 0, None)",
        "boxes[kept, 3]) - np.maximum(boxes[i, 1], boxes[kept, 1]) + 1, 0, None)")),
    "max_outputs ignored": change(
        _NMS, ("        if max_outputs is not None and len(keep) >= max_outputs:\n            break\n", "")),
    "kept indices returned sorted by index": change(
        _NMS, ("return np.array(keep, dtype=np.int64)", "return np.array(sorted(keep), dtype=np.int64)")),
    "IoU divided by the smaller area (intersection over minimum)": change(_NMS, (
        "union = areas[i] + areas[kept] - w * h", "union = np.minimum(areas[i], areas[kept])")),
}
RIGHT_NMS = {
    "IoU matrix first, boolean suppression mask": '''
def non_max_suppression(boxes, scores, iou_threshold, max_outputs=None):
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    lo = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=-1)
    union = area[:, None] + area[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    suppressed = np.zeros(len(boxes), bool)
    keep = []
    for i in sorted(range(len(boxes)), key=lambda k: (-float(scores[k]), k)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
        if max_outputs is not None and len(keep) == max_outputs:
            break
    return np.array(keep, dtype=int)
''',
    "TensorFlow's own NMS on converted boxes": '''
def non_max_suppression(boxes, scores, iou_threshold, max_outputs=None):
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    limit = len(boxes) if max_outputs is None else max_outputs
    return tf.image.non_max_suppression(boxes[:, [1, 0, 3, 2]], np.asarray(scores, np.float32), limit,
                                        iou_threshold=iou_threshold).numpy()
''',
    "pop from a sorted list, filter the rest": '''
def non_max_suppression(boxes, scores, iou_threshold, max_outputs=None):
    boxes = [list(map(float, b)) for b in np.asarray(boxes).reshape(-1, 4)]
    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        union = max(a[2] - a[0], 0) * max(a[3] - a[1], 0) + max(b[2] - b[0], 0) * max(b[3] - b[1], 0) - w * h
        return w * h / union if union > 0 else 0.0
    remaining = sorted(range(len(boxes)), key=lambda k: -float(scores[k]))
    keep = []
    while remaining and (max_outputs is None or len(keep) < max_outputs):
        best = remaining.pop(0)
        keep.append(best)
        remaining = [k for k in remaining if iou(boxes[best], boxes[k]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int32)
''',
}

# ----------------------------------------------------------------------------- decode_yolo

_DECODE = solution_source(CHAPTER, "decode_yolo")
_GRID = 'np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")'
_WIDTH = "width = anchors[:, 0] * np.exp(output[..., 2])"
_HEIGHT = "height = anchors[:, 1] * np.exp(output[..., 3])"
_CORNERS = (
    "np.stack([centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2], "
    "axis=-1)"
)
_FLAT = (
    "return boxes.reshape(-1, 4), sigmoid(output[..., 4]).reshape(-1), probabilities.reshape(-1, n_classes)"
)

WRONG_DECODE = {
    "x and y swapped (row index used for x)": change(_DECODE, (
        _GRID, _GRID.replace('indexing="ij"', 'indexing="xy"'))),
    "no sigmoid on the offsets": change(_DECODE, (
        "(cols[:, :, None] + sigmoid(output[..., 0]))", "(cols[:, :, None] + output[..., 0])"), (
        "(rows[:, :, None] + sigmoid(output[..., 1]))", "(rows[:, :, None] + output[..., 1])")),
    "size not multiplied by the anchor (in cells)": change(_DECODE, (
        _WIDTH, "width = np.exp(output[..., 2]) * image_size / grid"), (
        _HEIGHT, "height = np.exp(output[..., 3]) * image_size / grid")),
    "centre and size returned (not converted to corners)": change(_DECODE, (
        _CORNERS,
        "np.stack([centre_x, centre_y, width, height], axis=-1)")),
    "centre used as the top-left corner": change(_DECODE, (
        _CORNERS,
        "np.stack([centre_x, centre_y, centre_x + width, centre_y + height], axis=-1)")),
    "off-by-one cell offset": change(_DECODE, (
        "(cols[:, :, None] + sigmoid", "(cols[:, :, None] + 1 + sigmoid"), (
        "(rows[:, :, None] + sigmoid", "(rows[:, :, None] + 1 + sigmoid")),
    "anchor width and height swapped": change(_DECODE, (
        "width = anchors[:, 0] *", "width = anchors[:, 1] *"), (
        "height = anchors[:, 1] *", "height = anchors[:, 0] *")),
    "objectness without the sigmoid": change(
        _DECODE, ("sigmoid(output[..., 4]).reshape(-1)", "output[..., 4].reshape(-1)")),
    "class scores through a sigmoid instead of a softmax": change(_DECODE, (
        "probabilities = exp / exp.sum(axis=-1, keepdims=True)", "probabilities = sigmoid(logits)")),
    "anchor-major order (B, S, S)": change(_DECODE, (
        _FLAT,
        "return (np.moveaxis(boxes, 2, 0).reshape(-1, 4), "
        "np.moveaxis(sigmoid(output[..., 4]), 2, 0).reshape(-1),\n"
        "            np.moveaxis(probabilities, 2, 0).reshape(-1, n_classes))")),
    "exponential sizes in cells of the anchor, scaled by the image": change(_DECODE, (
        _WIDTH, _WIDTH + " / grid"), (_HEIGHT, _HEIGHT + " / grid")),
}
RIGHT_DECODE = {
    "loops over cells and anchors": '''
def decode_yolo(output, anchors, n_classes, image_size):
    import math
    output = np.asarray(output)
    grid = output.shape[0]
    cell = image_size / grid
    boxes, objectness, probabilities = [], [], []
    for i in range(grid):
        for j in range(grid):
            for a, (pw, ph) in enumerate(np.asarray(anchors, float)):
                tx, ty, tw, th, to = (float(v) for v in output[i, j, a, :5])
                cx = (j + 1 / (1 + math.exp(-tx))) * cell
                cy = (i + 1 / (1 + math.exp(-ty))) * cell
                w, h = pw * math.exp(tw), ph * math.exp(th)
                boxes.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
                objectness.append(1 / (1 + math.exp(-to)))
                logits = np.asarray(output[i, j, a, 5:], float)
                e = np.exp(logits - logits.max())
                probabilities.append(e / e.sum())
    return np.array(boxes), np.array(objectness), np.array(probabilities).reshape(-1, n_classes)
''',
    "TensorFlow ops, float32, centre-size then corners": '''
def decode_yolo(output, anchors, n_classes, image_size):
    t = tf.constant(output, tf.float32)
    s = t.shape[0]
    j = tf.cast(tf.range(s), tf.float32)[None, :, None]
    i = tf.cast(tf.range(s), tf.float32)[:, None, None]
    xy = tf.stack([(j + tf.sigmoid(t[..., 0])) * image_size / s,
                   (i + tf.sigmoid(t[..., 1])) * image_size / s], -1)
    wh = tf.constant(anchors, tf.float32) * tf.exp(t[..., 2:4])
    boxes = tf.concat([xy - wh / 2, xy + wh / 2], -1)
    return (tf.reshape(boxes, (-1, 4)).numpy(), tf.reshape(tf.sigmoid(t[..., 4]), (-1,)).numpy(),
            tf.reshape(tf.nn.softmax(t[..., 5:]), (-1, n_classes)).numpy())
''',
}

# ----------------------------------------------------------------------------- average_precision

_AP = solution_source(CHAPTER, "average_precision")

WRONG_AP = {
    "no precision envelope": change(_AP, ("np.maximum.accumulate(precision[::-1])[::-1]", "precision")),
    "duplicates counted as true positives": change(_AP, ("and not matched[best]", "")),
    "IoU threshold with > instead of >=": change(
        _AP, ("ious[best] >= iou_threshold", "ious[best] > iou_threshold")),
    "recall divided by the number of detections": change(
        _AP, ("recall = true_positives / len(true)", "recall = true_positives / len(pred)")),
    "precision divided by the number of ground-truth boxes": change(_AP, (
        "precision = true_positives / np.arange(1, len(pred) + 1)",
        "precision = true_positives / len(true)")),
    "detections sorted by increasing score": change(
        _AP, ('np.argsort(-scores, kind="stable")', 'np.argsort(scores, kind="stable")')),
    "11-point interpolation (VOC 2007)": change(_AP, (
        "return float(np.sum(np.diff(recall, prepend=0.0) * envelope))",
        "return float(np.mean([envelope[recall >= r].max() if np.any(recall >= r) else 0.0 "
        "for r in np.linspace(0, 1, 11)]))")),
    "no ground truth gives 0 instead of nan": change(_AP, ('return float("nan")', "return 0.0")),
    "envelope taken forwards (running max from the top)": change(_AP, (
        "np.maximum.accumulate(precision[::-1])[::-1]", "np.maximum.accumulate(precision)")),
    "mean precision at the true positives (missed objects ignored)": change(_AP, (
        "return float(np.sum(np.diff(recall, prepend=0.0) * envelope))",
        "return float(np.sum(envelope * hits) / max(hits.sum(), 1))")),
}
RIGHT_AP = {
    "Pascal VOC's voc_ap with sentinels": '''
def average_precision(pred_boxes, pred_scores, true_boxes, iou_threshold=0.5):
    pred = np.asarray(pred_boxes, float).reshape(-1, 4)
    true = np.asarray(true_boxes, float).reshape(-1, 4)
    if true.shape[0] == 0:
        return np.nan
    order = sorted(range(len(pred)), key=lambda k: -float(pred_scores[k]))
    detected = [False] * len(true)
    tp, fp = [], []
    for i in order:
        lo = np.maximum(pred[i, :2], true[:, :2])
        hi = np.minimum(pred[i, 2:], true[:, 2:])
        inter = np.prod(np.maximum(hi - lo, 0), axis=1)
        union = np.prod(pred[i, 2:] - pred[i, :2]) + np.prod(true[:, 2:] - true[:, :2], axis=1) - inter
        overlaps = inter / union
        j = int(np.argmax(overlaps))
        good = overlaps[j] >= iou_threshold and not detected[j]
        if good:
            detected[j] = True
        tp.append(1.0 if good else 0.0)
        fp.append(0.0 if good else 1.0)
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    rec = tp / len(true)
    prec = tp / np.maximum(tp + fp, 1e-12)
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for k in range(len(mpre) - 1, 0, -1):
        mpre[k - 1] = max(mpre[k - 1], mpre[k])
    k = np.where(mrec[1:] != mrec[:-1])[0]
    return np.float32(np.sum((mrec[k + 1] - mrec[k]) * mpre[k + 1]))
''',
    "COCO-style matching to the best unmatched ground truth": '''
def average_precision(pred_boxes, pred_scores, true_boxes, iou_threshold=0.5):
    pred = np.asarray(pred_boxes, float).reshape(-1, 4)
    true = np.asarray(true_boxes, float).reshape(-1, 4)
    if len(true) == 0:
        return float("nan")
    lo = np.maximum(pred[:, None, :2], true[None, :, :2])
    hi = np.minimum(pred[:, None, 2:], true[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iou = inter / (area(pred)[:, None] + area(true)[None, :] - inter)
    free = np.ones(len(true), bool)
    hits = []
    for i in np.argsort(-np.asarray(pred_scores, float), kind="mergesort"):
        candidates = np.where(free & (iou[i] >= iou_threshold), iou[i], -1.0)
        j = int(np.argmax(candidates)) if len(true) else 0
        hit = candidates[j] >= 0
        if hit:
            free[j] = False
        hits.append(hit)
    hits = np.array(hits, float)
    if hits.size == 0:
        return 0.0
    recall = np.cumsum(hits) / len(true)
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    ap, previous = 0.0, 0.0
    for k in range(hits.size):
        ap += (recall[k] - previous) * precision[k:].max()
        previous = recall[k]
    return ap
''',
}

WRONG = {"dense_to_conv": WRONG_DENSE_TO_CONV, "non_max_suppression": WRONG_NMS, "decode_yolo": WRONG_DECODE,
         "average_precision": WRONG_AP}
RIGHT = {"dense_to_conv": RIGHT_DENSE_TO_CONV, "non_max_suppression": RIGHT_NMS, "decode_yolo": RIGHT_DECODE,
         "average_precision": RIGHT_AP}
SCORED = {
    "build_detector": "mAP@0.5 target with partial credit, scored by the test cell's own decode/NMS/AP; "
    "checked by the round trip"
}
